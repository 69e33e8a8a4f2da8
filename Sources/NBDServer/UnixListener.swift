import Glibc

/// The listening Unix socket: created at a path (a stale socket file left by a dead server is
/// replaced; a live one, or any other file, is not), accepting connections until shut down.
enum UnixListener {
    static let backlog: Int32 = 64

    /// A bound socket, not yet listening: the caller restricts access to the file first, so no
    /// client connects before that.
    static func bind(path: String) throws(NBDServerError) -> Int32 {
        try removeStale(path)
        let fd = try systemCall("socket(AF_UNIX)") {
            socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        do {
            var address = try socketAddress(path)
            try systemCall("bind \(path)") { withSockaddr(&address) { Glibc.bind(fd, $0, $1) } }
            return fd
        } catch {
            close(fd)
            throw error
        }
    }

    static func listen(_ fd: Int32, path: String) throws(NBDServerError) {
        try systemCall("listen \(path)") { Glibc.listen(fd, backlog) }
    }

    /// The next connection's descriptor; nil once the listener was shut down or failed.
    static func accept(_ fd: Int32) -> Int32? {
        while true {
            let client = Glibc.accept(fd, nil, nil)
            if client >= 0 {
                // Not inherited by the tools a caller may spawn (accept4 is not visible here).
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                return client
            }
            switch errno {
            case EINTR, ECONNABORTED:
                continue
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                usleep(50_000)  // out of descriptors or memory: let other connections end first
            default:
                return nil
            }
        }
    }

    /// Unlinks a socket file nobody listens on; refuses a live socket or a non-socket file.
    private static func removeStale(_ path: String) throws(NBDServerError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw NBDServerError(operation: "\(path) exists and is not a socket", errno: EEXIST)
        }
        let probe = try systemCall("socket(AF_UNIX)") {
            socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        defer { close(probe) }
        var address = try socketAddress(path)
        if withSockaddr(&address, { connect(probe, $0, $1) }) == 0 {
            throw NBDServerError(operation: "another server is listening on \(path)", errno: EADDRINUSE)
        }
        try systemCall("unlink stale socket \(path)") { unlink(path) }
    }

    private static func socketAddress(_ path: String) throws(NBDServerError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else {
            throw NBDServerError(operation: "socket path \(path) is longer than \(capacity - 1) bytes", errno: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    private static func withSockaddr(_ address: inout sockaddr_un, _ call: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { call($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
