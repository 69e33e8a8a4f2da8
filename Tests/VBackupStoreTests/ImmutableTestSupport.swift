import Foundation
import LocalStorage
import StorageAdapter
import VBackupStore
import XCTest

/// A local directory with S3 Object Lock's rules in memory: a retained object cannot be deleted
/// before its date; retention only grows. Stands in for RGW until the S3 adapter exists.
final class ObjectLockedDirectory: RetainingStorageAdapter, @unchecked Sendable {
    private let base: LocalStorageAdapter
    private let lock = NSLock()
    private var dates: [String: Date] = [:]
    private(set) var retentionCalls = 0

    init(root: URL) throws {
        base = try LocalStorageAdapter(root: root, create: false)
    }

    var location: String { base.location }
    var canRetain: Bool { true }

    func put(_ key: String, data: Data) throws { try base.put(key, data: data) }
    func get(_ key: String) throws -> Data { try base.get(key) }
    func getRange(_ key: String, offset: Int, length: Int) throws -> Data { try base.getRange(key, offset: offset, length: length) }
    func list(prefix: String) throws -> [ObjectInfo] { try base.list(prefix: prefix) }
    func stat(_ key: String) throws -> ObjectInfo? { try base.stat(key) }
    func createExclusive(_ key: String, data: Data) throws -> Bool { try base.createExclusive(key, data: data) }

    func delete(_ key: String) throws {
        if let until = lock.withLock({ dates[key] }), until > Date() { throw StorageError.retained(key: key, until: until) }
        try base.delete(key)
    }

    func put(_ key: String, data: Data, retainUntil: Date) throws {
        try base.put(key, data: data)
        grow(key, retainUntil)
    }

    func extendRetention(_ key: String, until: Date) throws {
        guard try base.stat(key) != nil else { throw StorageError.notFound(key: key) }
        lock.withLock { retentionCalls += 1 }
        grow(key, until)
    }

    func retention(of key: String) throws -> Date? {
        lock.withLock { dates[key] }
    }

    private func grow(_ key: String, _ until: Date) {
        lock.withLock { dates[key] = max(dates[key] ?? .distantPast, until) }
    }
}

/// A small-geometry store on storage with object lock.
struct LockedStore {
    let adapter: any RetainingStorageAdapter
    let store: Store

    init(_ test: XCTestCase) throws {
        adapter = try ObjectLockedDirectory(root: try makeTemporaryDirectory(test, "locked"))
        store = try Store.create(
            adapter: adapter, cacheDirectory: try makeTemporaryDirectory(test, "cache"), chunkSize: 64 << 10, packSize: 256 << 10)
    }
}
