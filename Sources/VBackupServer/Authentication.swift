import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird

/// Who may call a route. The route table gives each route one; `Authentication` enforces it
/// before the route reads its parameters or body.
enum Access: String, Sendable {
    /// Anyone (health, the OpenAPI document, the login form).
    case open
    /// Anyone, but the body carries a one-time enrollment token (`vbe_…`).
    case enrollment
    /// A host's credential (`vbh_…`): the agent routes.
    case host
    /// An admin credential (`vba_…`).
    case admin
    /// A dashboard session cookie; without one the browser is sent to the login form.
    case session
}

/// Turns the `Authorization: Bearer` header into a principal of the kind a route wants.
/// Unknown, revoked or expired credentials are 401; a valid credential of the wrong kind is
/// 403, and so is a token whose prefix says it belongs elsewhere (enrollment, session), without
/// asking the database.
enum Authentication {
    /// Longer than any token the repository makes; such a header is not worth hashing.
    static let maximumTokenLength = 256

    static func principal(_ access: Access, request: Request, repository: any FleetRepository, now: Date) async throws -> Principal {
        let wanted: TokenKind = access == .host ? .host : .admin
        let token = try bearerToken(request)
        switch TokenKind.of(token) {
        case nil:
            throw APIFailure.unauthenticated("unknown credential")
        case .enrollment:
            throw APIFailure.forbidden("an enrollment token (vbe_…) is only accepted by POST \(APIPath.enroll)")
        case .session:
            throw APIFailure.forbidden("a dashboard session is not an API credential")
        case .admin, .host:
            break
        }
        guard let principal = try await repository.authenticate(token: token, now: now) else {
            throw APIFailure.unauthenticated("unknown, revoked or expired credential")
        }
        switch (principal, wanted) {
        case (.admin, .admin), (.host, .host):
            return principal
        case (.host, _):
            throw APIFailure.forbidden("this route wants an admin credential (vba_…), not a host credential")
        default:
            throw APIFailure.forbidden("this route wants a host credential (vbh_…), not an admin credential")
        }
    }

    /// The token of `Authorization: Bearer TOKEN` (the scheme in any case).
    static func bearerToken(_ request: Request) throws -> String {
        guard let header = request.headers[.authorization] else {
            throw APIFailure.unauthenticated("missing credential: send Authorization: Bearer TOKEN")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIFailure.unauthenticated("the Authorization header must be 'Bearer TOKEN'")
        }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.utf8.count <= maximumTokenLength else { throw APIFailure.unauthenticated("unknown credential") }
        return token
    }

    /// The enrollment route's check of the token in its body: only a `vbe_` token is looked
    /// up (and used up) by the repository.
    static func checkEnrollmentToken(_ token: String) throws {
        guard token.utf8.count <= maximumTokenLength, let kind = TokenKind.of(token) else {
            throw APIFailure.unauthenticated("unknown enrollment token")
        }
        guard kind == .enrollment else {
            throw APIFailure.forbidden("enrollment wants a one-time enrollment token (vbe_…), not a \(kind == .session ? "session" : "\(kind)") credential")
        }
    }
}
