import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird

/// What every handler needs and nothing else: the repository, the clock and whether cookies
/// must be `Secure`. One per server.
struct ServerState: Sendable {
    var repository: any FleetRepository
    var clock: @Sendable () -> Date = { Date() }
    /// The server speaks TLS, so the session cookie is sent over HTTPS only.
    var secureCookies = false
}

/// One request as a handler sees it: who made it (already checked against the route's
/// access), its path and query parameters (already validated) and one `now` for the whole
/// request.
struct Call: Sendable {
    var request: Request
    var principal: Principal?
    var path: PathParameters
    var query: Query
    var server: ServerState
    var now: Date

    var repository: any FleetRepository { server.repository }

    func body<T: Decodable>(_ type: T.Type) async throws -> T {
        try await JSONBody.decode(type, from: request)
    }

    /// The principal of an admin or host route; a route whose access is open has none, and
    /// asking for it there is a bug in the route table, answered as a server fault.
    func authenticated() throws -> Principal {
        guard let principal else { throw APIFailure.internalError }
        return principal
    }

    /// The host an agent route acts for: from its credential, never from the request.
    func hostID() throws -> String {
        guard case .host(let id, _) = try authenticated() else { throw APIFailure.internalError }
        return id
    }
}

/// The path parameters of a route template (`{name}`, `{id}`, `{version}`), each checked by
/// `Validation` before the handler runs.
struct PathParameters: Sendable, Equatable {
    private var policyName: String?
    private var hostID: String?
    private var versionNumber: Int?

    init() {}

    init(_ parameters: Parameters) throws {
        for (key, value) in parameters {
            switch key {
            case "name": policyName = try Validation.policyName(String(value))
            case "id": hostID = try Validation.hostID(String(value))
            case "version": versionNumber = try Validation.version(String(value))
            default: throw APIFailure.internalError
            }
        }
    }

    /// These throw only when the route template lacks the parameter: a bug, hence a 500.
    func name() throws -> String { try present(policyName) }
    func id() throws -> String { try present(hostID) }
    func version() throws -> Int { try present(versionNumber) }

    private func present<T>(_ value: T?) throws -> T {
        guard let value else { throw APIFailure.internalError }
        return value
    }
}
