import FleetAPI
import FleetDatabase
import Hummingbird

/// An answer other than success: a status and one line for `APIError`. Every refusal the server
/// makes is one of these, so the mapping from causes to statuses lives in this file only.
struct APIFailure: Error, Sendable, Equatable {
    var status: HTTPResponse.Status
    var message: String
    var headers: HTTPFields = [:]

    static func badRequest(_ message: String) -> APIFailure { APIFailure(status: .badRequest, message: message) }

    /// 401 carries the challenge, so clients know a bearer token is wanted.
    static func unauthenticated(_ message: String) -> APIFailure {
        APIFailure(status: .unauthorized, message: message, headers: [.wwwAuthenticate: #"Bearer realm="vbackup""#])
    }

    static func forbidden(_ message: String) -> APIFailure { APIFailure(status: .forbidden, message: message) }

    static func tooLarge(limit: Int) -> APIFailure {
        APIFailure(status: .contentTooLarge, message: "request body larger than \(limit) bytes")
    }

    static func unsupportedMediaType(_ wanted: String) -> APIFailure {
        APIFailure(status: .unsupportedMediaType, message: "Content-Type must be \(wanted)")
    }

    /// What any other error becomes: the server's fault, without its details.
    static let internalError = APIFailure(status: .internalServerError, message: "internal server error; the server log says why")
}

extension APIFailure {
    /// The repository's refusals. A database failure's own text (SQL, connection strings) is
    /// logged by the caller, never sent.
    init(_ error: FleetError) {
        switch error {
        case .invalid(let message): self = .badRequest(message)
        case .unauthenticated(let message): self = .unauthenticated(message)
        case .notFound(let message): self.init(status: .notFound, message: message)
        case .conflict(let message) where Self.isEngineWording(message):
            self.init(status: .conflict, message: "the change conflicts with one made at the same time; try again")
        case .conflict(let message): self.init(status: .conflict, message: message)
        case .database: self.init(status: .serviceUnavailable, message: "the database failed; the server log says why")
        }
    }

    /// A conflict the repository did not explain still carries the engine's text (a unique
    /// constraint's table and column); that stays in the server.
    private static func isEngineWording(_ message: String) -> Bool {
        message.hasPrefix("SQLite:") || message.hasPrefix("PostgreSQL:")
    }
}
