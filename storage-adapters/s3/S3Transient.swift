import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// Which failures are worth another try: S3's throttling and server errors, timeouts and
/// broken connections. Never an authentication error, a missing object or a refused
/// connection (nothing listens there; waiting will not change it soon).
enum S3Transient {
    static let statuses: Set<Int> = [500, 502, 503, 504]
    static let codes: Set<String> = ["SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable",
                                     "ConditionalRequestConflict"]

    static func isTransient(_ response: S3Response) -> Bool {
        if statuses.contains(response.status) { return true }
        guard response.status >= 400, !response.body.isEmpty else { return false }
        return codes.contains(response.code)
    }
}

/// A request that got no answer, with a short reason and whether to try again.
struct S3TransportFailure: Error {
    var reason: String
    var transient: Bool

    init(_ error: any Error) {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: (reason, transient) = ("the connection timed out", true)
            case .readTimeout, .writeTimeout, .deadlineExceeded: (reason, transient) = ("no answer within 60 s", true)
            case .remoteConnectionClosed: (reason, transient) = ("the server closed the connection", true)
            case .uncleanShutdown: (reason, transient) = ("the connection was cut", true)
            default: (reason, transient) = ("\(error)", false)
            }
            return
        }
        if let reason = Self.tlsReason(error) {
            (self.reason, transient) = (reason, false)
            return
        }
        if let error = error as? IOError {
            let code = error.errnoCode
            reason = String(cString: strerror(code)).lowercased()
            transient = [ECONNRESET, EPIPE, ETIMEDOUT, ECONNABORTED].contains(code)
            return
        }
        // NIOPosix's NIOConnectionError (not imported here) lists every address it tried.
        let text = "\(error)"
        if text.contains("Connection refused") { (reason, transient) = ("connection refused", false); return }
        if text.contains("DNS") || text.contains("resolve") {
            (reason, transient) = ("the host name does not resolve", false)
            return
        }
        if text.contains("Connection reset") { (reason, transient) = ("connection reset", true); return }
        reason = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        transient = false
    }

    /// TLS failures an operator can act on, in their words: an untrusted (private) CA, or a
    /// certificate for another name.
    private static func tlsReason(_ error: any Error) -> String? {
        let text = "\(error)"
        if error is NIOSSLExtraError, text.contains("failedToValidateHostname") || text.contains("hostname") {
            return "the server's TLS certificate is not for this host name"
        }
        guard error is NIOSSLError else { return nil }
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the server's TLS certificate is not trusted (a private CA? name its PEM file with ca-file=PATH in the URL or $AWS_CA_BUNDLE)"
        }
        return "TLS failed: " + text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
