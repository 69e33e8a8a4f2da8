import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird

/// The dashboard's four routes: the overview (behind a session), and signing in and out with
/// an admin credential. The pages themselves are `DashboardPages`, pure functions of a
/// `DashboardSnapshot`.
enum DashboardRoutes {
    static let overviewPath = "/"
    static let loginPath = "/login"
    static let logoutPath = "/logout"
    /// A login form holds one token; anything bigger is not a login.
    static let maximumFormBytes = 4096

    @Sendable static func overview(_ call: Call) async throws -> Response {
        let snapshot = try await DashboardSnapshot.read(call.repository, now: call.now, signedInAs: try call.authenticated().name)
        return Reply.html(DashboardPages.overview(snapshot))
    }

    @Sendable static func loginForm(_ call: Call) async throws -> Response {
        Reply.html(DashboardPages.login(error: nil))
    }

    /// A right admin token starts a 12-hour session and goes to the overview; anything else
    /// shows the form again, with 401.
    @Sendable static func login(_ call: Call) async throws -> Response {
        guard MediaTypes.matches(call.request.headers[.contentType], "application/x-www-form-urlencoded") else {
            throw APIFailure.unsupportedMediaType("application/x-www-form-urlencoded")
        }
        let form = try await JSONBody.collect(call.request, limit: maximumFormBytes)
        let token = ((try? URLEncodedFormDecoder().decode(LoginForm.self, from: String(decoding: form, as: UTF8.self)))?.token ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines)  // pasted with its line break
        guard TokenKind.of(token) == .admin, token.utf8.count <= Authentication.maximumTokenLength,
              case .admin(let adminID, _)? = try await call.repository.authenticate(token: token, now: call.now) else {
            return Reply.html(DashboardPages.login(error: "That is not a valid admin token."), status: .unauthorized)
        }
        let session = try await call.repository.createSession(adminID: adminID, expiresAt: call.now.addingTimeInterval(Session.lifetime),
                                                              now: call.now)
        var response = Reply.redirect(to: overviewPath)
        response.setCookie(Session.cookie(session, secure: call.server.secureCookies))
        return response
    }

    @Sendable static func logout(_ call: Call) async throws -> Response {
        if let token = Session.token(call.request) { try await call.repository.deleteSession(token: token) }
        var response = Reply.redirect(to: loginPath)
        response.setCookie(Session.clearingCookie(secure: call.server.secureCookies))
        return response
    }

    private struct LoginForm: Decodable {
        var token: String
    }
}

extension DashboardSnapshot {
    /// Everything the overview shows, read at once (the reads run concurrently; on PostgreSQL
    /// they use several connections).
    static func read(_ repository: any FleetRepository, now: Date, signedInAs: String) async throws -> DashboardSnapshot {
        let month = now.addingTimeInterval(-30 * 86_400)
        async let hosts = repository.hosts(now: now)
        async let vms = repository.vms(hostID: nil, now: now)
        async let failed = repository.jobs(JobFilter(failedOnly: true, limit: 50))
        async let running = repository.jobs(JobFilter(state: "running", limit: Validation.maximumLimit))
        async let usage = repository.storeUsage(since: month)
        async let nights = repository.throughputPerNight(since: month)
        return try await DashboardSnapshot(now: now, signedInAs: signedInAs, hosts: hosts, vms: vms, failedJobs: failed,
                                           runningJobs: running, storeUsage: usage, nights: nights)
    }
}
