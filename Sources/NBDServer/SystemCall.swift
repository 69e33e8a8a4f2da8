import Glibc

/// A system call that failed while setting the server up: which call, on what, and `errno`.
public struct NBDServerError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let errno: Int32

    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String {
        errno == 0 ? operation : "\(operation): \(String(cString: strerror(errno)))"
    }
}

/// Why a client's connection ended; never escapes the module (a connection's end is not the
/// server's failure).
enum SessionEnd: Error {
    /// The peer closed the socket, or stop() shut it down.
    case closed
    /// The peer broke the protocol in a way that leaves the stream unparseable.
    case malformed(String)
}

/// The one gate for the system calls this module makes: retries `EINTR` and turns a failing
/// return into `NBDServerError` with the errno of that call.
@discardableResult
func systemCall<Result: BinaryInteger>(_ operation: @autoclosure () -> String,
                                       _ call: () -> Result) throws(NBDServerError) -> Result {
    while true {
        let result = call()
        if result >= 0 { return result }
        let error = Glibc.errno
        if error == EINTR { continue }
        throw NBDServerError(operation: operation(), errno: error)
    }
}
