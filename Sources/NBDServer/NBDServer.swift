import Foundation
import Glibc

/// vbackup's own read-only NBD server on a Unix socket: QEMU (instant restore), `qemu-img`,
/// `nbdcopy` and `nbdfuse` read a point's disks through it.
///
/// Fixed-newstyle handshake with GO/INFO/EXPORT_NAME/LIST/ABORT, structured replies and the
/// `base:allocation` meta context; reads, block status and flush are served, every write-type
/// command is refused with EPERM. One thread per connection; reads of one connection run on
/// worker threads and their replies never interleave. A client that breaks the protocol loses
/// its own connection only.
public final class NBDServer: @unchecked Sendable {
    /// Bytes of read buffers held at once across all connections.
    static let readBudgetBytes = 256 << 20

    public let socketPath: String
    private let exports: [String: any NBDExportSource]
    private let maxConnections: Int
    private let listener: Int32
    private let budget = ReadBudget(limit: readBudgetBytes)
    private let pool = BufferPool(idleLimit: 128 << 20)

    private let lock = NSLock()
    private var sessions: [ObjectIdentifier: StreamSocket] = [:]
    private var isStopped = false
    /// Set (under `lock`) once the accept thread closed the listener, so stop() never shuts
    /// down a descriptor number that may already belong to something else.
    private var listenerClosed = false
    /// The accept thread and every connection thread; stop() waits for them.
    private let threads = DispatchGroup()

    /// Binds a Unix socket at socketPath (replacing a stale socket file), listens, and serves
    /// on threads until stop(). `exports` maps export names to sources; the empty name reaches
    /// the only export when there is one. The socket is mode 0660 and, when `socketOwner` is a
    /// user of this host, owned by that user (see `SocketAccess`).
    public init(socketPath: String, exports: [String: any NBDExportSource], maxConnections: Int = 16,
                socketOwner: String? = "libvirt-qemu") throws {
        self.socketPath = socketPath
        self.exports = exports
        self.maxConnections = max(1, maxConnections)
        let fd = try UnixListener.bind(path: socketPath)
        do {
            try SocketAccess.restrict(socketPath, owner: socketOwner)
            try UnixListener.listen(fd, path: socketPath)
        } catch {
            close(fd)
            unlink(socketPath)
            throw error
        }
        listener = fd
        threads.enter()
        Thread.detachNewThread { [self] in
            Self.markServerThread(self)
            acceptLoop()
            threads.leave()
        }
    }

    deinit { stop() }

    /// Closes the listener and every connection, removes the socket file. Idempotent; safe
    /// from any thread. Waits until every connection thread has ended (so no source is read
    /// after it returns), except when called from one of this server's own threads.
    public func stop() {
        lock.lock()
        let first = !isStopped
        isStopped = true
        let open = Array(sessions.values)
        if first && !listenerClosed { _ = Glibc.shutdown(listener, Int32(SHUT_RDWR)) }
        lock.unlock()
        if first {
            for socket in open { socket.shutdown() }
            unlink(socketPath)
        }
        if !Self.isServerThread(self) { threads.wait() }
    }

    private func acceptLoop() {
        defer {
            lock.withLock {
                listenerClosed = true
                close(listener)
            }
        }
        while let fd = UnixListener.accept(listener) {
            let socket = StreamSocket(fd: fd)
            lock.lock()
            if isStopped {
                lock.unlock()
                socket.close()
                return
            }
            guard sessions.count < maxConnections else {
                lock.unlock()
                socket.close()
                continue
            }
            sessions[ObjectIdentifier(socket)] = socket
            threads.enter()
            lock.unlock()
            Thread.detachNewThread { [self] in
                Self.markServerThread(self)
                serve(socket)
                lock.withLock { _ = sessions.removeValue(forKey: ObjectIdentifier(socket)) }
                socket.close()
                threads.leave()
            }
        }
    }

    /// One connection, start to end. Whatever ends it (disconnect, a hang-up, garbage, stop())
    /// ends only this connection.
    private func serve(_ socket: StreamSocket) {
        do {
            var handshake = Handshake(socket: socket, exports: exports)
            guard let negotiated = try handshake.run() else { return }
            try Transmission(socket: socket, negotiated: negotiated, budget: budget, pool: pool).run()
        } catch {
            socket.shutdown()
        }
    }

    private static let threadKey = "vbackup.NBDServer"

    private static func markServerThread(_ server: NBDServer) {
        Thread.current.threadDictionary[threadKey] = ObjectIdentifier(server).hashValue
    }

    private static func isServerThread(_ server: NBDServer) -> Bool {
        Thread.current.threadDictionary[threadKey] as? Int == ObjectIdentifier(server).hashValue
    }
}
