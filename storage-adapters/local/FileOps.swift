import Foundation
import StorageAdapter

/// The adapter's system calls, each behind one helper that retries `EINTR` and turns `errno`
/// into a `StorageError` naming the key, so the adapter type reads as policy, not plumbing.
enum FileOps {
    static func error(_ call: String, key: String, code: Int32 = errno) -> StorageError {
        if code == ENOENT { return .notFound(key: key) }
        return .io(key: key, message: "\(call): \(String(cString: strerror(code)))")
    }

    static func check(_ result: Int32, _ call: String, key: String) throws {
        if result != 0 { throw error(call, key: key) }
    }

    /// Calls `body` until it does not fail with `EINTR`.
    static func retrying<T: BinaryInteger>(_ body: () -> T) -> T {
        while true {
            let result = body()
            if result >= 0 || errno != EINTR { return result }
        }
    }

    static func openForReading(_ path: String, key: String) throws -> Int32 {
        let fd = retrying { open(path, O_RDONLY | O_CLOEXEC) }
        if fd < 0 { throw error("open", key: key) }
        return fd
    }

    static func size(of fd: Int32, key: String) throws -> Int {
        var info = stat()
        if fstat(fd, &info) != 0 { throw error("fstat", key: key) }
        return Int(info.st_size)
    }

    /// Reads exactly `length` bytes at `offset`; a short file is an error, not a short result.
    static func read(_ fd: Int32, offset: Int, length: Int, key: String) throws -> Data {
        var data = Data(count: length)
        let got = try data.withUnsafeMutableBytes { buffer -> Int in
            var done = 0
            while done < length {
                let n = retrying { pread(fd, buffer.baseAddress! + done, length - done, off_t(offset + done)) }
                if n < 0 { throw error("pread", key: key) }
                if n == 0 { break }
                done += n
            }
            return done
        }
        guard got == length else {
            throw StorageError.io(key: key, message: "range \(offset)+\(length) past end of object (read \(got))")
        }
        return data
    }

    /// Writes `data` to a new file at `path` and fsyncs it before returning.
    static func writeDurably(_ data: Data, to path: String, key: String) throws {
        let fd = retrying { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        if fd < 0 { throw error("open", key: key) }
        defer { close(fd) }
        try data.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = retrying { write(fd, buffer.baseAddress! + done, buffer.count - done) }
                if n < 0 { throw error("write", key: key) }
                done += n
            }
        }
        if retrying({ fsync(fd) }) != 0 { throw error("fsync", key: key) }
    }

    /// fsyncs a directory so that a rename or a new entry in it survives a crash.
    static func syncDirectory(_ path: String, key: String) throws {
        let fd = retrying { open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        if fd < 0 { throw error("open directory", key: key) }
        defer { close(fd) }
        if retrying({ fsync(fd) }) != 0 { throw error("fsync directory", key: key) }
    }

    /// `mkdir -p`, fsyncing each parent that gained an entry so new directories are durable too.
    static func makeDirectories(_ path: String, key: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        if mkdir(path, 0o755) != 0 {
            switch errno {
            case EEXIST:
                return
            case ENOENT:
                try makeDirectories(parent, key: key)
                if mkdir(path, 0o755) != 0 {
                    if errno == EEXIST { return }
                    throw error("mkdir", key: key)
                }
            default:
                throw error("mkdir", key: key)
            }
        }
        try syncDirectory(parent, key: key)
    }

    static func info(path: String, key: String) throws -> ObjectInfo? {
        var st = stat()
        if lstat(path, &st) != 0 {
            if errno == ENOENT { return nil }
            throw error("stat", key: key)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let seconds = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
        return ObjectInfo(key: key, size: Int(st.st_size), modified: Date(timeIntervalSince1970: seconds))
    }
}
