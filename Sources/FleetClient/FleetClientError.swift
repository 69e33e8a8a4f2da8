import Foundation

/// Why a call to the policy server failed, as one line a person can act on.
///
/// The three cases ask for different reactions: `unreachable` is worth retrying later (the
/// agent keeps its cached policies and its queued reports), `http` is the server's considered
/// refusal (a revoked credential, an invalid policy) and retrying the same call will not help,
/// and `badResponse` means the two ends disagree about the API (a version mismatch, a proxy
/// answering in the server's place).
public enum FleetClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The server answered with a 4xx/5xx status; `message` is its `APIError` text (or the
    /// start of the body when it sent none).
    case http(status: Int, message: String)
    /// No answer: refused, timed out, DNS failed, TLS failed (an unpinned certificate).
    case unreachable(server: String, reason: String)
    /// An answer that is not what the API promises for this route.
    case badResponse(String)

    public var description: String {
        switch self {
        case .http(let status, let message):
            return "the policy server refused the request (HTTP \(status)): \(message)"
        case .unreachable(let server, let reason):
            return "cannot reach the policy server at \(server): \(reason)"
        case .badResponse(let reason):
            return "the policy server sent an answer vbackup cannot read: \(reason)"
        }
    }

    /// Whether trying the same call later may succeed (the agent backs off and retries these).
    public var isTransient: Bool {
        switch self {
        case .unreachable: return true
        case .http(let status, _): return status >= 500 || status == 429 || status == 408
        case .badResponse: return false
        }
    }
}
