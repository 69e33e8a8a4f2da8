import CNBD

/// The one error type of this module: libnbd's errno and message for the failing call.
/// `nbd_get_error`/`nbd_get_errno` are thread-local, so reading them right after the call is safe.
public struct NBDError: Error, CustomStringConvertible, Sendable {
    public let errno: Int32
    public let message: String

    public init(errno: Int32, message: String) {
        self.errno = errno
        self.message = message
    }

    public var description: String { "NBD error (errno \(errno)): \(message)" }
}

/// libnbd's last error, or `fallback` when libnbd recorded none (e.g. a failure of our own).
func lastNBDError(_ fallback: String) -> NBDError {
    let message = nbd_get_error().map { String(cString: $0) } ?? fallback
    return NBDError(errno: nbd_get_errno(), message: message)
}

/// The gate every libnbd call returning an int goes through: -1 means failure.
@discardableResult
func check(_ result: Int32, _ what: @autoclosure () -> String) throws(NBDError) -> Int32 {
    guard result >= 0 else { throw lastNBDError(what()) }
    return result
}

@discardableResult
func check(_ result: Int64, _ what: @autoclosure () -> String) throws(NBDError) -> Int64 {
    guard result >= 0 else { throw lastNBDError(what()) }
    return result
}
