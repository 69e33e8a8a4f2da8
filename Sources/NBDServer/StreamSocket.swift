import Foundation
import Glibc

/// One accepted client socket. Reads happen on the connection's own thread; writes come from
/// request workers, each one whole message under `writeLock`, so replies never interleave.
///
/// The descriptor is closed only by `close()`, which the connection thread calls once nothing
/// else uses it; other threads (stop(), a failed write) only `shutdown()` it, which wakes a
/// blocked read without letting the number be reused under anyone's feet.
final class StreamSocket: @unchecked Sendable {
    private let fd: Int32
    private let writeLock = NSLock()
    private let stateLock = NSLock()
    private var isShut = false
    private var isClosed = false

    init(fd: Int32) {
        self.fd = fd
    }

    /// Fills `buffer` completely; throws `SessionEnd.closed` when the peer hangs up first.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws {
        guard let base = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let n = recv(fd, base + done, buffer.count - done, 0)
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                throw SessionEnd.closed
            }
        }
    }

    func read(count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try read(into: $0) }
        return bytes
    }

    /// Reads and drops `count` bytes (a refused write's payload) through a bounded buffer.
    func discard(count: Int) throws {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: min(count, 1 << 20), alignment: 16)
        defer { scratch.deallocate() }
        var left = count
        while left > 0 {
            let n = min(left, scratch.count)
            try read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<n]))
            left -= n
        }
    }

    /// Sends one whole message. A failed send shuts the socket down, so the reading thread
    /// ends the connection.
    func write(_ buffer: UnsafeRawBufferPointer) throws {
        writeLock.lock()
        defer { writeLock.unlock() }
        guard let base = buffer.baseAddress else { return }
        var done = 0
        while done < buffer.count {
            let n = send(fd, base + done, buffer.count - done, Int32(MSG_NOSIGNAL))
            if n > 0 {
                done += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                shutdown()
                throw SessionEnd.closed
            }
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Wakes a blocked read and fails later writes. Idempotent; any thread.
    func shutdown() {
        stateLock.lock()
        defer { stateLock.unlock() }
        guard !isShut, !isClosed else { return }
        isShut = true
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Releases the descriptor; only the connection's own thread calls this, last.
    func close() {
        stateLock.lock()
        defer { stateLock.unlock() }
        guard !isClosed else { return }
        isClosed = true
        _ = Glibc.close(fd)
    }
}
