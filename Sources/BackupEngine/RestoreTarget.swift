import Foundation
import NBDClient
#if canImport(Glibc)
import Glibc
#endif

/// Where a restored disk's bytes go. Written from several threads at once; chunks never
/// overlap, and zero chunks are never written, so the image stays sparse.
protocol RestoreTarget: AnyObject, Sendable {
    func write(_ data: UnsafeRawBufferPointer, at offset: UInt64) throws
    /// Makes everything durable and releases the target.
    func finish() throws
    /// Releases the target after a failure.
    func discard()
}

/// A sparse raw image written with `pwrite`.
final class RawFileTarget: RestoreTarget, @unchecked Sendable {
    private let fd: Int32
    private let path: String

    init(path: String, size: UInt64) throws {
        self.path = path
        fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.error("cannot create \(path)") }
        guard ftruncate(fd, off_t(size)) == 0 else {
            close(fd)
            throw Self.error("cannot size \(path)")
        }
    }

    func write(_ data: UnsafeRawBufferPointer, at offset: UInt64) throws {
        var done = 0
        while done < data.count {
            let n = pwrite(fd, data.baseAddress! + done, data.count - done, off_t(offset) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Self.error("write to \(path) failed") }
            done += n
        }
    }

    func finish() throws {
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Self.error("fsync of \(path) failed") }
    }

    func discard() { close(fd) }

    private static func error(_ message: String) -> EngineError {
        EngineError.invalidArgument("\(message): \(String(cString: strerror(errno)))")
    }
}

/// A new qcow2 image written through `qemu-nbd`, so QEMU lays out the clusters itself. One NBD
/// connection per writer thread: a single connection would serialize every write's round trip.
final class Qcow2Target: RestoreTarget, @unchecked Sendable {
    private let export: QemuNBDExport
    private let lock = NSLock()
    private var idle: [NBDConnection] = []
    private var all: [NBDConnection] = []

    init(path: String, size: UInt64, socketPath: String, connections: Int) throws {
        try Subprocess.run("qemu-img", ["create", "-q", "-f", "qcow2", "-o", "compat=1.1,cluster_size=65536", path, String(size)])
        export = try QemuNBDExport(imagePath: path, format: "qcow2", exportName: "restore", socketPath: socketPath,
                                   bitmap: nil, writable: true, maxConnections: connections)
        do {
            for _ in 0..<max(1, connections) { all.append(try NBDConnection(unixSocket: socketPath, exportName: "restore")) }
        } catch {
            discard()
            throw error
        }
        idle = all
    }

    func write(_ data: UnsafeRawBufferPointer, at offset: UInt64) throws {
        let connection = lock.withLock { idle.popLast() } ?? all[0]
        defer { lock.withLock { idle.append(connection) } }
        try connection.write(data, at: offset)
    }

    func finish() throws {
        defer { discard() }
        for connection in all { try connection.flush() }
    }

    func discard() {
        for connection in all { connection.close() }
        export.stop()
    }
}
