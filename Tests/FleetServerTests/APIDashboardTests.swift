import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The dashboard: an admin token signs in for 12 hours with a cookie no script can read and no
/// other site can send; without a session every page leads to the login form.
@Suite struct APIDashboardTests {
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    @Test(arguments: TestDatabase.allCases)
    func withoutASessionTheOverviewSendsToLogin(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let response = try await server.send(.get, "/")
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/login")
            let forged = try await server.send(.get, "/", headers: [.cookie: "vbackup_session=vbs_forged"])
            #expect(forged.status == .seeOther)
            let adminAsCookie = try await server.send(.get, "/", headers: [.cookie: "vbackup_session=\(server.admin)"])
            #expect(adminAsCookie.status == .seeOther)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func theLoginFormIsHTMLWithTheSecurityHeaders(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let response = try await server.send(.get, "/login")
            #expect(response.status == .ok)
            Self.expectHTMLHeaders(response)
            #expect(String(buffer: response.body).contains("<form"))
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aWrongTokenShowsTheFormAgainWith401(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let host = try await server.enroll("hv1")
            for token in ["vba_wrong", host.credential, "", "x"] {
                let response = try await server.send(.post, "/login", headers: Self.form, body: ByteBuffer(string: "token=\(token)"))
                #expect(response.status == .unauthorized, "\(token)")
                #expect(response.headers[.setCookie] == nil)
                Self.expectHTMLHeaders(response)
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func anAdminTokenStartsASessionUntilLogout(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let host = try await server.enroll("hv1")
            try await server.send(.post, APIPath.agentReports, token: host.credential, json: ReportBatch(reports: [TestReport.inventory()]))
            let escaped = server.admin.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            // As pasted from the token file: with its line break.
            let login = try await server.send(.post, "/login", headers: Self.form, body: ByteBuffer(string: "token=\(escaped)%0A"))
            #expect(login.status == .seeOther)
            #expect(login.headers[.location] == "/")
            let setCookie = try #require(login.headers[.setCookie])
            let attributes = setCookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            #expect(attributes.first?.hasPrefix("vbackup_session=vbs_") == true, "\(setCookie)")
            #expect(attributes.contains("httponly"))
            #expect(attributes.contains("samesite=strict"))
            #expect(attributes.contains("path=/"))
            #expect(attributes.contains("max-age=43200"))
            #expect(!attributes.contains("secure"), "plain HTTP: a Secure cookie would never come back")
            let cookie = String(setCookie.split(separator: ";")[0])

            let overview = try await server.send(.get, "/", headers: [.cookie: cookie])
            #expect(overview.status == .ok)
            Self.expectHTMLHeaders(overview)
            #expect(String(buffer: overview.body).contains("tester"), "the page names who is signed in")

            let logout = try await server.send(.post, "/logout", headers: [.cookie: cookie])
            #expect(logout.status == .seeOther)
            #expect(logout.headers[.location] == "/login")
            #expect(logout.headers[.setCookie]?.lowercased().contains("max-age=0") == true)
            let after = try await server.send(.get, "/", headers: [.cookie: cookie])
            #expect(after.status == .seeOther, "the session is deleted on the server, not only forgotten by the browser")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aSessionIsNotAnAPICredential(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let login = try await server.send(.post, "/login", headers: Self.form, body: ByteBuffer(string: "token=\(server.admin)"))
            let session = try #require(login.headers[.setCookie]?.split(separator: ";").first?.split(separator: "=").last.map(String.init))
            _ = try server.refusal(.forbidden, try await server.send(.get, APIPath.policies, token: session))
            _ = try server.refusal(.unauthorized, try await server.send(.get, APIPath.policies, headers: [.cookie: "vbackup_session=\(session)"]))
        }
    }

    static func expectHTMLHeaders(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.headers[.contentType] == "text/html; charset=utf-8", sourceLocation: sourceLocation)
        #expect(response.headers[.contentSecurityPolicy] == "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
                sourceLocation: sourceLocation)
        #expect(response.headers[.xContentTypeOptions] == "nosniff", sourceLocation: sourceLocation)
    }
}
