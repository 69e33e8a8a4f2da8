import CNBD
import Foundation

// NBDClient: the only module that imports CNBD. One class over one libnbd handle; every failing
// call goes through `check` (NBDError.swift), which reads libnbd's thread-local errno and message.

/// A connection to one NBD export through libnbd.
///
/// `@unchecked Sendable`: a libnbd handle has its own lock, so I/O calls may come from several
/// threads; the only mutable state here, the handle pointer, is guarded by `lock`. `close()`
/// must not race with I/O still in flight on other threads.
public final class NBDConnection: @unchecked Sendable {
    private let lock = NSLock()
    private var handle: OpaquePointer?

    public let size: UInt64
    /// Largest single read/write: the server's maximum block size, clamped to 1…32 MiB
    /// (libnbd refuses reads above 64 MiB; QEMU's limit is 32 MiB).
    public let maxRequest: Int
    public let isReadOnly: Bool

    static let defaultMaxRequest = 32 << 20
    static let minMaxRequest = 1 << 20

    /// Connects to a Unix-socket NBD server (libvirt pull-mode export or qemu-nbd), requesting
    /// meta contexts before connecting: the NBD handshake negotiates them once, up front.
    public init(unixSocket: String, exportName: String, metaContexts: [String] = []) throws {
        guard let h = nbd_create() else { throw lastNBDError("nbd_create failed") }
        do {
            for context in metaContexts {
                try check(nbd_add_meta_context(h, context), "nbd_add_meta_context(\(context)) failed")
            }
            try check(nbd_set_export_name(h, exportName), "nbd_set_export_name failed")
            try check(nbd_connect_unix(h, unixSocket), "nbd_connect_unix(\(unixSocket)) failed")
            size = UInt64(try check(nbd_get_size(h), "nbd_get_size failed"))
            isReadOnly = try check(nbd_is_read_only(h), "nbd_is_read_only failed") == 1
            let maximum = try check(nbd_get_block_size(h, Int32(LIBNBD_SIZE_MAXIMUM)), "nbd_get_block_size failed")
            maxRequest = maximum == 0
                ? Self.defaultMaxRequest
                : min(max(Int(maximum), Self.minMaxRequest), Self.defaultMaxRequest)
        } catch {
            nbd_close(h)
            throw error
        }
        handle = h
    }

    deinit { close() }

    /// Whether the server agreed to a context requested in `init`.
    public func supportsContext(_ name: String) -> Bool {
        guard let h = try? liveHandle() else { return false }
        return nbd_can_meta_context(h, name) == 1
    }

    /// Fills `buffer` from `offset`, in requests of at most `maxRequest` bytes.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        let h = try liveHandle()
        guard let base = buffer.baseAddress else { return }
        try inRequests(count: buffer.count, at: offset, "nbd_pread") { done, n, position in
            nbd_pread(h, base + done, n, position, 0)
        }
    }

    /// Writes `buffer` at `offset`, in requests of at most `maxRequest` bytes.
    public func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws {
        let h = try liveHandle()
        guard let base = buffer.baseAddress else { return }
        try inRequests(count: buffer.count, at: offset, "nbd_pwrite") { done, n, position in
            nbd_pwrite(h, base + done, n, position, 0)
        }
    }

    /// Splits `count` bytes at `offset` into requests the server accepts; `request` gets the
    /// bytes done so far, the request's length and its disk offset.
    private func inRequests(count: Int, at offset: UInt64, _ name: String,
                            _ request: (Int, Int, UInt64) -> Int32) throws {
        var done = 0
        while done < count {
            let n = min(maxRequest, count - done)
            let position = offset + UInt64(done)
            try check(request(done, n, position), "\(name)(\(n) at \(position)) failed")
            done += n
        }
    }

    /// Zeroes a range. NBD lengths are 32-bit, so long ranges go in 1 GiB pieces.
    public func writeZeroes(offset: UInt64, length: UInt64) throws {
        let h = try liveHandle()
        let piece: UInt64 = 1 << 30
        var done: UInt64 = 0
        while done < length {
            let n = min(piece, length - done)
            try check(nbd_zero(h, n, offset + done, 0), "nbd_zero(\(n) at \(offset + done)) failed")
            done += n
        }
    }

    public func flush() throws {
        try check(nbd_flush(try liveHandle(), 0), "nbd_flush failed")
    }

    /// Ends the session politely (NBD_CMD_DISC, so qemu-nbd and QEMU see a clean disconnect)
    /// and frees the handle. Idempotent; later calls on this object throw.
    public func close() {
        lock.lock()
        let h = handle
        handle = nil
        lock.unlock()
        guard let h else { return }
        _ = nbd_shutdown(h, 0)
        nbd_close(h)
    }

    func liveHandle() throws(NBDError) -> OpaquePointer {
        lock.lock()
        defer { lock.unlock() }
        guard let handle else { throw NBDError(errno: EBADF, message: "NBD connection is closed") }
        return handle
    }
}
