import Foundation
import StorageAdapter

/// What verify found wrong with one point: the chunks it cannot restore, where they sit on
/// which disk, and the objects that were unreadable.
public struct PointDamage: Codable, Sendable, Equatable {
    public var pointID: String
    public var vmUUID: String
    public var vmName: String
    public var foundAt: Date
    public var chunks: [DamagedChunk]
    public var objects: [DamagedObject]
}

public struct DamagedChunk: Codable, Sendable, Equatable {
    public var id: String
    public var reason: String
    /// Where the chunk sits: disk target and byte ranges (one per occurrence in the disk).
    public var disk: String
    public var ranges: [ByteRange]
}

public struct ByteRange: Codable, Sendable, Equatable {
    public var offset: UInt64
    public var length: UInt64
}

public struct DamagedObject: Codable, Sendable, Equatable {
    public var key: String
    public var reason: String
}

/// Damage marks, `marks/damaged/<pointID>.json`: in the store so every host's next backup of
/// the VM sees them (and reads in full instead of building on a damaged point).
extension Store {
    static let damagedPrefix = "marks/damaged/"

    /// Points that verify marked damaged and that have not been verified healed since.
    public func damagedPointIDs() throws -> Set<String> {
        let listed = try io(Self.damagedPrefix) { try adapter.list(prefix: Self.damagedPrefix) }
        return Set(listed.compactMap { object in
            object.key.hasSuffix(".json") ? String(object.key.dropFirst(Self.damagedPrefix.count).dropLast(5)) : nil
        })
    }

    /// The damage verify recorded for a point, if it is marked damaged.
    public func damage(of pointID: String) throws -> PointDamage? {
        let key = Self.damagedPrefix + pointID + ".json"
        do {
            let data = try adapter.get(key)
            return try io(key) {
                do { return try StoreJSON.decode(PointDamage.self, from: data) } catch {
                    throw StoreError.corrupt(key: key, reason: StoreJSON.describe(error))
                }
            }
        } catch StorageError.notFound {
            return nil
        } catch let error as StorageError {
            throw StoreError.storage(error)
        }
    }

    func markDamaged(_ damage: PointDamage) throws {
        try StoreFormat.validateName(damage.pointID)
        let key = Self.damagedPrefix + damage.pointID + ".json"
        let data = try StoreJSON.encode(damage)
        try io(key) { try adapter.put(key, data: data) }
    }

    func clearDamage(pointID: String) throws {
        let key = Self.damagedPrefix + pointID + ".json"
        try io(key) { try adapter.delete(key) }
    }
}
