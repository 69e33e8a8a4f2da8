import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import VBackupServer

/// Who may call what, checked over the whole route table rather than route by route, so a route
/// added later is covered the day it is added.
@Suite struct SecurityAccessTests {
    static let adminRoutes = RouteTable.routes.filter { $0.access == .admin }
    static let hostRoutes = RouteTable.routes.filter { $0.access == .host }
    static let protectedRoutes = adminRoutes + hostRoutes

    @Test func everyAPIRouteButHealthOpenAPIAndEnrollNeedsACredential() {
        let open = RouteTable.routes.filter { $0.path.hasPrefix(APIPath.prefix) && ($0.access == .open || $0.access == .enrollment) }
        #expect(Set(open.map(\.path)) == [APIPath.health, APIPath.openapi, APIPath.enroll])
        #expect(RouteTable.routes.filter { !$0.path.hasPrefix(APIPath.prefix) }.allSatisfy { $0.access == .open || $0.access == .session })
    }

    @Test(arguments: TestDatabase.allCases)
    func withoutAValidCredentialEveryProtectedRouteIs401(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let fixture = try await AccessFixture.make(server)
            let headers: [HTTPFields] = [
                [:], [.authorization: "Basic YWRtaW46YWRtaW4="], [.authorization: "Bearer"], [.authorization: "Bearer "],
                [.authorization: "Bearer vba_unknown"], [.authorization: "Bearer vbh_unknown"], [.authorization: "Bearer garbage"],
                [.authorization: "Bearer " + String(repeating: "a", count: 10_000)],
            ]
            for route in Self.protectedRoutes {
                for header in headers {
                    let response = try await server.send(route.method, fixture.path(route), headers: header)
                    _ = try server.refusal(.unauthorized, response)
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "\(route.method) \(route.path)")
                }
            }
            for route in RouteTable.routes where route.access == .session {
                #expect(try await server.send(route.method, fixture.path(route)).status == .seeOther)
            }
            #expect(try await server.counts() == fixture.counts)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aHostCredentialIsRefusedOnEveryAdminRoute(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let fixture = try await AccessFixture.make(server)
            for route in Self.adminRoutes {
                let message = try server.refusal(.forbidden, try await server.send(route.method, fixture.path(route), token: fixture.host.credential))
                #expect(message.contains("admin credential"), "\(route.method) \(route.path): \(message)")
            }
            #expect(try await server.counts() == fixture.counts)
            #expect(try await server.repository.hosts(now: Date()).allSatisfy { !$0.revoked })
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func anAdminCredentialIsRefusedOnEveryAgentRoute(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let fixture = try await AccessFixture.make(server)
            for route in Self.hostRoutes {
                let message = try server.refusal(.forbidden, try await server.send(route.method, fixture.path(route), token: server.admin))
                #expect(message.contains("host credential"), "\(route.method) \(route.path): \(message)")
            }
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func anEnrollmentTokenIsRefusedEverywhereButEnrollAndWorksOnce(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let fixture = try await AccessFixture.make(server)
            let created = try await server.repository.createEnrollmentToken(EnrollmentTokenRequest(), now: Date())
            for route in Self.protectedRoutes {
                let message = try server.refusal(.forbidden, try await server.send(route.method, fixture.path(route), token: created.token))
                #expect(message.contains("enrollment token"), "\(route.method) \(route.path): \(message)")
            }
            let request = EnrollRequest(token: created.token, hostName: "hv2", agentVersion: "1.0")
            _ = try server.expect(.ok, EnrollResponse.self, try await server.send(.post, APIPath.enroll, json: request))
            _ = try server.refusal(.unauthorized, try await server.send(.post, APIPath.enroll, json: request))
            #expect(try await server.repository.hosts(now: Date()).map(\.name).sorted() == ["hv1", "hv2"])
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func enrollAcceptsOnlyAnEnrollmentTokenAndChecksTheNameBeforeUsingIt(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let fixture = try await AccessFixture.make(server)
            for token in [server.admin, fixture.host.credential] {
                _ = try server.refusal(.forbidden, try await server.send(
                    .post, APIPath.enroll, json: EnrollRequest(token: token, hostName: "hv9", agentVersion: "1.0")))
            }
            for token in ["vbe_unknown", "garbage", ""] {
                _ = try server.refusal(.unauthorized, try await server.send(
                    .post, APIPath.enroll, json: EnrollRequest(token: token, hostName: "hv9", agentVersion: "1.0")))
            }
            let created = try await server.repository.createEnrollmentToken(EnrollmentTokenRequest(), now: Date())
            for name in ["", "hv 9", "hv9;rm", String(repeating: "a", count: 254), "hv_9", "ħv9"] {
                let message = try server.refusal(.badRequest, try await server.send(
                    .post, APIPath.enroll, json: EnrollRequest(token: created.token, hostName: name, agentVersion: "1.0")))
                #expect(message.contains("hostName"), "\(message)")
            }
            _ = try server.expect(.ok, EnrollResponse.self, try await server.send(
                .post, APIPath.enroll, json: EnrollRequest(token: created.token, hostName: "hv9.example.org", agentVersion: "1.0")))
            #expect(try await server.counts().hosts == fixture.counts.hosts + 1)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aRevokedHostsCredentialIs401Everywhere(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let fixture = try await AccessFixture.make(server)
            _ = try await server.repository.revokeHost(id: fixture.host.hostID, now: Date())
            for route in Self.protectedRoutes {
                _ = try server.refusal(.unauthorized, try await server.send(route.method, fixture.path(route), token: fixture.host.credential))
            }
            _ = try server.refusal(.unauthorized, try await server.send(
                .post, APIPath.agentReports, token: fixture.host.credential, json: ReportBatch(reports: [TestReport.job()])))
            #expect(try await server.counts() == fixture.counts)
        }
    }
}

/// A fleet of one host and one policy, and the concrete path of every route template in it.
struct AccessFixture: Sendable {
    static let policy = "nightly"
    var host: EnrollResponse
    var counts: StoredCounts

    static func make(_ server: TestServer) async throws -> AccessFixture {
        let host = try await server.enroll("hv1")
        try await server.apply(policy)
        return AccessFixture(host: host, counts: try await server.counts())
    }

    func path(_ route: Route, name: String = AccessFixture.policy, id: String? = nil, version: String = "1") -> String {
        route.path.replacingOccurrences(of: "{name}", with: name).replacingOccurrences(of: "{id}", with: id ?? host.hostID)
            .replacingOccurrences(of: "{version}", with: version)
    }
}
