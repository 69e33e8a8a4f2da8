import Foundation

/// The seam between the store and a storage backend.
///
/// The store decides every key and every byte of every object; an adapter only moves opaque
/// objects. Contract, for every adapter (one conformance suite checks it):
/// - Keys are `/`-separated relative paths of `[A-Za-z0-9._-]` segments; an adapter maps them to
///   files, object names, etc. It never interprets them.
/// - `put` is atomic and durable when it returns: readers see the whole object or none of it,
///   also after a crash. Writing an existing key replaces it atomically.
/// - `get`/`getRange` of a missing key throw `StorageError.notFound`.
/// - `list(prefix:)` returns every object whose key starts with `prefix`, in any order; objects
///   being written (not yet durable) are never listed.
/// - `delete` of a missing key succeeds (deletes are idempotent).
/// - `createExclusive` writes only if no object has the key, atomically with respect to every
///   other writer (the store's locks rest on it): of two racing calls, exactly one returns true.
/// - Every method may be called from many threads at once.
public protocol StorageAdapter: Sendable {
    /// A human-readable location, for messages (`/var/lib/vbackup/store`, `s3://bucket/prefix`).
    var location: String { get }
    func put(_ key: String, data: Data) throws
    func get(_ key: String) throws -> Data
    func getRange(_ key: String, offset: Int, length: Int) throws -> Data
    func list(prefix: String) throws -> [ObjectInfo]
    func stat(_ key: String) throws -> ObjectInfo?
    func delete(_ key: String) throws
    /// Writes `data` under `key` unless the key exists; returns whether it wrote.
    func createExclusive(_ key: String, data: Data) throws -> Bool
    /// How many requests are worth keeping in flight at once (a network store wants several,
    /// a local disk few); the store sizes its upload and read-ahead queues by it.
    var preferredConcurrency: Int { get }
    /// The object size this backend handles best: an object store charges per request, so it
    /// wants fewer, larger objects than a local disk. The store sizes new stores' packs by it.
    var preferredObjectSize: Int { get }
}

extension StorageAdapter {
    public var preferredConcurrency: Int { 2 }
    public var preferredObjectSize: Int { 16 << 20 }
}

/// One stored object as a listing shows it.
public struct ObjectInfo: Sendable, Hashable {
    public var key: String
    public var size: Int
    public var modified: Date

    public init(key: String, size: Int, modified: Date) {
        self.key = key
        self.size = size
        self.modified = modified
    }
}

/// What can go wrong below the store, in terms the store can act on.
public enum StorageError: Error, Equatable, CustomStringConvertible {
    case notFound(key: String)
    /// The backend refused or failed; `message` says what the backend said.
    case io(key: String, message: String)
    /// The location itself is unusable (missing, not a directory, no permission, bad URL).
    case unusableLocation(String)
    /// The backend retains the object (S3 Object Lock) and refuses to delete it before `until`.
    case retained(key: String, until: Date?)

    public var description: String {
        switch self {
        case .notFound(let key): return "object \(key) not found"
        case .io(let key, let message): return "\(key): \(message)"
        case .unusableLocation(let message): return message
        case .retained(let key, let until):
            let date = until.map { " until " + ISO8601DateFormatter().string(from: $0) } ?? ""
            return "object \(key) is retained by the storage's object lock\(date)"
        }
    }
}
