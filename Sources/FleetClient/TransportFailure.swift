import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// Turns what AsyncHTTPClient and NIO throw when no answer arrives into a short reason
/// ("connection refused", "no answer within 30 s", "TLS: the server's certificate is not
/// trusted"): the long type dumps they print are of no use to the person reading the line.
enum TransportFailure {
    static func describe(_ error: any Error, timeout: TimeAmount) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return "no answer within \(timeout.nanoseconds / 1_000_000_000) s"
            case .connectTimeout:
                return "the connection timed out"
            case .remoteConnectionClosed:
                return "the server closed the connection"
            case .cancelled:
                return "the request was cancelled"
            default:
                break
            }
        }
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)).lowercased() }
        if let error = error as? NIOSSLError { return tls(error) }
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") { return certificateRefused }
        // NIOPosix's NIOConnectionError (not imported here) lists each address tried.
        if text.contains("Connection refused") { return "connection refused" }
        if text.contains("DNS error") { return "the host name does not resolve" }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    private static let certificateRefused =
        "TLS: the server's certificate is not trusted (not the pinned certificate, not issued by it, or a name mismatch)"

    private static func tls(_ error: NIOSSLError) -> String {
        switch error {
        case .handshakeFailed(let reason):
            return "\(reason)".contains("CERTIFICATE_VERIFY_FAILED") ? certificateRefused : "TLS handshake failed: \(reason)"
        default:
            return "TLS: \(error)"
        }
    }
}
