import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird

/// The dashboard's session cookie. The cookie holds a `vbs_` token the repository made and
/// keeps hashed; it is HttpOnly (no script reads it), SameSite=Strict (no other site's form
/// posts with it) and, behind TLS, Secure.
enum Session {
    static let cookieName = "vbackup_session"
    static let lifetime: TimeInterval = 12 * 3600

    /// The admin signed in with the request's cookie, or nil (no cookie, or an unknown,
    /// expired or deleted session).
    static func principal(_ request: Request, repository: any FleetRepository, now: Date) async throws -> Principal? {
        guard let token = token(request) else { return nil }
        return try await repository.session(token: token, now: now)
    }

    static func token(_ request: Request) -> String? {
        guard let value = request.cookies[cookieName]?.value, TokenKind.of(value) == .session,
              value.utf8.count <= Authentication.maximumTokenLength else { return nil }
        return value
    }

    static func cookie(_ token: String, secure: Bool) -> Cookie {
        Cookie(name: cookieName, value: token, maxAge: Int(lifetime), path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// Replaces the cookie with an expired, empty one.
    static func clearingCookie(secure: Bool) -> Cookie {
        Cookie(name: cookieName, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }
}
