import Foundation
import StorageAdapter
import VBackupModel

/// Deleting points and protecting them. Only point metadata goes: chunks stay in their packs
/// until GC finds no manifest naming them.
///
/// Protection is a marker object `marks/protected/<pointID>` in the store, so every host that
/// shares the store sees it. `deletePoint` checks the marker in storage (never a cache) right
/// before deleting. Object stores offer no compare-and-delete, so a mark set by another host in
/// the instant between that check and the delete can lose the race; prune runs re-check each
/// point just before deleting it, which narrows that window to one request.
///
/// An immutable point (`PointManifest.immutableUntil`, written under object lock) cannot be
/// deleted before its date by anyone; `deletePoint` refuses it up front rather than letting
/// the storage refuse halfway.
extension Store {
    /// Removes a point: its manifest first (the commit record, so the point disappears at once),
    /// then its other objects under `points/<vm>/<point>/` (disk indexes, NVRAM), then its
    /// catalog row. A crash in between leaves objects no manifest names: garbage for GC, never a
    /// partial point. Throws `StoreError.pointNotFound` for an unknown id,
    /// `ProtectedPointError` for a protected point and `ImmutablePointError` for a point still
    /// under object lock (also when the storage's clock says so before ours does). An object
    /// of the point that the storage still retains after the manifest went is left for GC.
    public func deletePoint(id: String) throws {
        let manifest = try point(id: id)
        if let until = manifest.immutableUntil, manifest.isImmutable() { throw ImmutablePointError(pointID: id, until: until) }
        if try isProtected(pointID: id) { throw ProtectedPointError(pointID: id) }
        let manifestKey = StoreFormat.manifestKey(vmUUID: manifest.vmUUID, pointID: manifest.id)
        if let refused = try deleteUnlessRetained(manifestKey) {
            throw ImmutablePointError(pointID: id, until: refused.until ?? manifest.immutableUntil)
        }
        let prefix = StoreFormat.pointPrefix(vmUUID: manifest.vmUUID, pointID: manifest.id)
        let leftovers = try io(prefix) { try adapter.list(prefix: prefix) }
        for object in leftovers.sorted(by: { $0.key < $1.key }) {
            _ = try deleteUnlessRetained(object.key)
        }
        try catalog.deletePoints(keys: [manifestKey])
    }

    /// Marks a point as protected: prune keeps it and `deletePoint` refuses it. Idempotent.
    public func protect(pointID: String) throws {
        let manifest = try point(id: pointID)
        let key = try StoreFormat.protectedMarkKey(pointID: pointID)
        let mark = ProtectedMark(point: manifest.id, vmUUID: manifest.vmUUID, vmName: manifest.vmName, protectedAt: Date())
        let data = try StoreJSON.encode(mark)
        try io(key) { try adapter.put(key, data: data) }
    }

    /// Removes a point's protection. Idempotent for a known point; also clears a stale mark
    /// whose point is gone. Throws `StoreError.pointNotFound` when neither exists.
    public func unprotect(pointID: String) throws {
        let key = try StoreFormat.protectedMarkKey(pointID: pointID)
        let marked = try io(key) { try adapter.stat(key) } != nil
        if !marked { _ = try point(id: pointID) }
        try io(key) { try adapter.delete(key) }
    }

    /// Ids of protected points, listed from storage on every call (one LIST request), so marks
    /// set by other hosts are always seen.
    public func protectedPointIDs() throws -> Set<String> {
        let prefix = StoreFormat.protectedMarksPrefix
        let listed = try io(prefix) { try adapter.list(prefix: prefix) }
        return Set(listed.map { String($0.key.dropFirst(prefix.count)) }.filter { !$0.isEmpty && !$0.contains("/") })
    }

    /// Whether the point's protection mark exists in storage (one request).
    public func isProtected(pointID: String) throws -> Bool {
        let key = try StoreFormat.protectedMarkKey(pointID: pointID)
        return try io(key) { try adapter.stat(key) } != nil
    }
}

/// Deleting a protected point was refused.
public struct ProtectedPointError: Error, Equatable, CustomStringConvertible {
    public var pointID: String

    public init(pointID: String) {
        self.pointID = pointID
    }

    public var description: String {
        "restore point \(pointID) is protected (vbackup points unprotect \(pointID) to allow deleting it)"
    }
}

/// Deleting a point that is still immutable (under the storage's object lock) was refused.
public struct ImmutablePointError: Error, Equatable, CustomStringConvertible {
    public var pointID: String
    /// When the storage lets it go; nil when it did not say.
    public var until: Date?

    public init(pointID: String, until: Date?) {
        self.pointID = pointID
        self.until = until
    }

    public var description: String {
        let date = until.map { " until " + $0.formatted(.iso8601) } ?? ""
        return "restore point \(pointID) is immutable\(date) (S3 Object Lock): no one can delete it before then"
    }
}

/// The content of a protection mark: for people reading the store; only the key counts.
struct ProtectedMark: Codable {
    var point: String
    var vmUUID: String
    var vmName: String
    var protectedAt: Date
}

extension StoreFormat {
    static let protectedMarksPrefix = "marks/protected/"

    static func protectedMarkKey(pointID: String) throws -> String {
        try validateName(pointID)
        return protectedMarksPrefix + pointID
    }
}
