import StorageAdapter

/// What the store reports; each description is one line a user can act on.
public enum StoreError: Error, CustomStringConvertible {
    case notAStore(String)
    case alreadyInitialized(String)
    case unsupportedVersion(Int)
    case pointNotFound(String)
    case chunkMissing(ChunkID)
    case corrupt(key: String, reason: String)
    case storage(StorageError)
    /// The local catalog (SQLite) failed; rebuilding it from the store is always safe.
    case catalog(String)
    /// A VM UUID, point id, disk target or object name that cannot be a key segment.
    case invalidName(String)
    /// The write session was already committed, aborted or broken by an earlier failure.
    case sessionClosed(String)
    /// Another process holds what this operation needs (the maintenance lock).
    case locked(String)
    /// Objects the operation cannot do without are unreadable; verify repairs what it can.
    case unreadableObjects([String])
    /// An immutable point was asked of a store whose storage cannot retain objects.
    case noObjectLock(String)
    /// A retention date that cannot be used (already past).
    case invalidRetention(String)

    public var description: String {
        switch self {
        case .notAStore(let location): return "\(location) is not a vbackup store (no valid config.json)"
        case .alreadyInitialized(let location): return "\(location) already holds a vbackup store"
        case .unsupportedVersion(let version):
            return "store format version \(version) is not supported (this vbackup reads versions \(StoreFormat.readableVersions))"
        case .pointNotFound(let id): return "restore point \(id) not found"
        case .chunkMissing(let id): return "chunk \(id) is not in the store"
        case .corrupt(let key, let reason): return "\(key) is corrupt: \(reason)"
        case .storage(let error): return "storage: \(error)"
        case .catalog(let message): return "catalog: \(message) (rebuild it with rebuildCatalog)"
        case .invalidName(let name): return "'\(name)' cannot be used in a store key"
        case .sessionClosed(let why): return "write session is closed: \(why)"
        case .locked(let why): return why
        case .unreadableObjects(let problems):
            let more = problems.count > 3 ? " (and \(problems.count - 3) more)" : ""
            return problems.prefix(3).joined(separator: "; ") + more + "; run vbackup verify"
        case .noObjectLock(let location):
            return "store \(location) cannot keep immutable points: its storage has no object lock"
                + " (create an s3:// store with vbackup store init --object-lock)"
        case .invalidRetention(let why): return why
        }
    }
}

/// A malformed binary object, before the caller knows which key it came from.
struct FormatError: Error {
    let reason: String
}

extension StoreError {
    /// Runs `body`, naming `key` in format errors and wrapping adapter errors.
    static func mapping<T>(key: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as FormatError {
            throw StoreError.corrupt(key: key, reason: error.reason)
        } catch let error as StorageError {
            throw StoreError.storage(error)
        } catch StoreError.corrupt(let inner, let reason) where inner != key {
            throw StoreError.corrupt(key: key, reason: "\(inner): \(reason)")
        }
    }
}
