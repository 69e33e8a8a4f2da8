import Foundation
import StorageAdapter

/// A storage adapter over a local (or locally mounted) directory: each key is a file under `root`.
///
/// Durability comes from the classic sequence: write a `.tmp-` file next to the target, fsync it,
/// rename it over the key, fsync the directory. A crash leaves either the old object, the new
/// one, or a stray `.tmp-` file that `list` hides; never a torn object.
public struct LocalStorageAdapter: StorageAdapter {
    public let root: URL
    public var location: String { root.path }

    /// Opens (or, with `create`, makes) the directory that holds the objects.
    public init(root: URL, create: Bool) throws {
        self.root = root.standardizedFileURL
        try Self.prepare(root: self.root.path, create: create)
    }

    public func put(_ key: String, data: Data) throws {
        let path = try path(for: key)
        let directory = (path as NSString).deletingLastPathComponent
        try FileOps.makeDirectories(directory, key: key)
        let temp = directory + "/" + StorageKey.reservedPrefix + UUID().uuidString
        do {
            try FileOps.writeDurably(data, to: temp, key: key)
            try FileOps.check(rename(temp, path), "rename", key: key)
        } catch {
            unlink(temp)
            throw error
        }
        try FileOps.syncDirectory(directory, key: key)
    }

    /// Writes a temporary file, then `link`s it to the key: `link` fails with `EEXIST` when the
    /// key exists, which makes the create atomic (unlike a rename, which would replace).
    public func createExclusive(_ key: String, data: Data) throws -> Bool {
        let path = try path(for: key)
        let directory = (path as NSString).deletingLastPathComponent
        try FileOps.makeDirectories(directory, key: key)
        let temp = directory + "/" + StorageKey.reservedPrefix + UUID().uuidString
        defer { unlink(temp) }
        try FileOps.writeDurably(data, to: temp, key: key)
        if link(temp, path) != 0 {
            if errno == EEXIST { return false }
            throw FileOps.error("link", key: key)
        }
        try FileOps.syncDirectory(directory, key: key)
        return true
    }

    public func get(_ key: String) throws -> Data {
        let fd = try FileOps.openForReading(try path(for: key), key: key)
        defer { close(fd) }
        let size = try FileOps.size(of: fd, key: key)
        return try FileOps.read(fd, offset: 0, length: size, key: key)
    }

    /// Reads `length` bytes at `offset` with `pread`; a range past the end is an `.io` error.
    public func getRange(_ key: String, offset: Int, length: Int) throws -> Data {
        guard offset >= 0, length >= 0 else {
            throw StorageError.io(key: key, message: "invalid range offset \(offset) length \(length)")
        }
        let fd = try FileOps.openForReading(try path(for: key), key: key)
        defer { close(fd) }
        return try FileOps.read(fd, offset: offset, length: length, key: key)
    }

    public func list(prefix: String) throws -> [ObjectInfo] {
        try StorageKey.validatePrefix(prefix)
        let directoryPart = prefix.lastIndex(of: "/").map { String(prefix[..<$0]) } ?? ""
        var found: [ObjectInfo] = []
        try FileOps.walk(root: root.path, relative: directoryPart) { info in
            if info.key.hasPrefix(prefix) { found.append(info) }
        }
        return found
    }

    public func stat(_ key: String) throws -> ObjectInfo? {
        try FileOps.info(path: try path(for: key), key: key)
    }

    public func delete(_ key: String) throws {
        let path = try path(for: key)
        if unlink(path) != 0 && errno != ENOENT {
            throw FileOps.error("unlink", key: key)
        }
    }

    private func path(for key: String) throws -> String {
        try StorageKey.validate(key)
        return root.path + "/" + key
    }

    private static func prepare(root path: String, create: Bool) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw StorageError.unusableLocation("storage location \(path) is a file, not a directory")
            }
        } else if create {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            } catch {
                throw StorageError.unusableLocation("cannot create storage location \(path): \(error.localizedDescription)")
            }
        } else {
            throw StorageError.unusableLocation("storage location \(path) does not exist")
        }
        guard access(path, W_OK | X_OK) == 0 else {
            throw StorageError.unusableLocation("storage location \(path) is not writable")
        }
    }
}
