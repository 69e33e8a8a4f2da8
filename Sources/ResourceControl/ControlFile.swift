import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failed system call on a control file or directory (cgroupfs, procfs) or a priority call: what
/// was attempted, on what, and the kernel's answer. The agent shows `description` as is, so an
/// operator reads "write 50000 to /sys/fs/cgroup/cpu/vbackup-agent/cpu.cfs_quota_us: Invalid
/// argument" rather than a bare errno.
public struct ControlFileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// "write 50000", "read", "mkdir", "rmdir", "setpriority 10", ...
    public var operation: String
    public var path: String
    public var errno: Int32
    /// strerror(errno).
    public var message: String

    public var description: String { "\(operation) \(path): \(message)" }
}

/// The one gate for every system call of this module: retries EINTR and turns a failure into a
/// `ControlFileError` (the swift-nio habit, see STYLE.md).
enum ControlFile {
    /// Runs `call` until it does not fail with EINTR; a negative result becomes a typed error.
    @discardableResult
    static func check<T: BinaryInteger>(
        _ operation: @autoclosure () -> String, _ path: String, _ call: () -> T
    ) throws(ControlFileError) -> T {
        while true {
            let result = call()
            if result >= 0 { return result }
            let code = Glibc.errno
            if code == EINTR { continue }
            throw ControlFileError(operation: operation(), path: path, errno: code, message: String(cString: strerror(code)))
        }
    }

    /// Replaces a control file's content. Never creates the file: a missing control file means the
    /// controller is not there, and that must be an error, not a new regular file.
    static func write(_ value: String, to path: String) throws(ControlFileError) {
        let fd = try check("write \(value) to", path) { open(path, O_WRONLY | O_TRUNC | O_CLOEXEC) }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        var offset = 0
        while offset < bytes.count {
            offset += try check("write \(value) to", path) {
                bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            }
        }
    }

    /// A whole control file (procfs and cgroupfs files report size 0, so read until end of file).
    static func read(_ path: String) throws(ControlFileError) -> String {
        let fd = try check("read", path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = try check("read", path) {
                chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            }
            if count == 0 { break }
            data.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Creates a directory; one that already exists is fine (a group left by an earlier run).
    static func makeDirectory(_ path: String) throws(ControlFileError) {
        do throws(ControlFileError) {
            try check("mkdir", path) { mkdir(path, 0o755) }
        } catch where error.errno == EEXIST {
            return
        }
    }

    static func removeDirectory(_ path: String) throws(ControlFileError) {
        try check("rmdir", path) { rmdir(path) }
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// The entries of a directory, or [] if it cannot be read.
    static func entries(_ path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }
}
