import Foundation
import StorageAdapter

/// Key files kept outside the store, on the local file system: read, created without ever
/// replacing another file, or replaced atomically. Written with mode 0600 and fsync'd: for a
/// key kept only here, losing the file loses the store.
enum KeyFileIO {
    static func read(_ url: URL) throws -> Data {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw KeyError.keyFileNotFound(url.path)
        }
        return data
    }

    /// Writes a new file; refuses to replace an existing one.
    static func create(_ url: URL, data: Data) throws {
        try writeFile(data, to: url.path)
    }

    /// Replaces `url` by a new file: the new one is complete on disk before the rename.
    static func replace(_ url: URL, data: Data) throws {
        let temporary = url.path + ".new-\(getpid())"
        try writeFile(data, to: temporary)
        guard rename(temporary, url.path) == 0 else {
            let error = failure("rename", url.path)
            unlink(temporary)
            throw error
        }
    }

    private static func writeFile(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw KeyError.keyFileExists(path) }
            throw failure("open", path)
        }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(fd) == 0 else {
            let error = failure("write", path)
            unlink(path)
            throw error
        }
    }

    private static func failure(_ call: String, _ path: String) -> StoreError {
        .storage(.io(key: path, message: "\(call): \(String(cString: strerror(errno)))"))
    }
}
