import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import VBackupServer

/// A host enrolls, reports, and the admin's reads show what it reported.
@Suite struct APIFleetTests {
    @Test(arguments: TestDatabase.allCases)
    func healthNamesTheDatabase(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let health = try server.expect(.ok, HealthStatus.self, try await server.send(.get, APIPath.health))
            #expect(health.status == "ok")
            #expect(health.database == server.repository.kind)
            #expect(health.version == PolicyServer.version)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func anEnrolledHostsCredentialWorksAndTheHostIsListed(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let token = try server.expect(.ok, EnrollmentTokenCreated.self, try await server.send(
                .post, APIPath.enrollmentTokens, token: server.admin, json: EnrollmentTokenRequest(hostName: "hv1", groups: ["prod"])))
            #expect(token.token.hasPrefix("vbe_"))
            #expect(token.expiresAt > Date())
            let enrolled = try server.expect(.ok, EnrollResponse.self, try await server.send(
                .post, APIPath.enroll, json: EnrollRequest(token: token.token, hostName: "hv1", agentVersion: "1.2")))
            #expect(enrolled.credential.hasPrefix("vbh_"))
            #expect(enrolled.hostName == "hv1")

            #expect(try await server.send(.get, APIPath.agentPolicies, token: enrolled.credential).status == .ok)
            let hosts = try server.expect(.ok, [HostInfo].self, try await server.send(.get, APIPath.hosts, token: server.admin))
            #expect(hosts.map(\.id) == [enrolled.hostID])
            #expect(hosts.first?.groups == ["prod"])
            #expect(hosts.first?.agentVersion == "1.2")
            #expect(hosts.first?.revoked == false)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func reportsAreStoredOnceAndShowInEveryRead(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let host = try await server.enroll("hv1")
            let succeeded = TestReport.job(state: "succeeded")
            let failed = TestReport.job(state: "failed", at: TestReport.t0.addingTimeInterval(1200))
            let batch = ReportBatch(reports: [TestReport.inventory(), succeeded, failed, TestReport.storeUsage()])
            let receipt = try server.expect(.ok, ReportReceipt.self,
                                            try await server.send(.post, APIPath.agentReports, token: host.credential, json: batch))
            #expect(Set(receipt.accepted) == Set(batch.reports.map(\.id)))
            #expect(receipt.duplicates == [])
            let resent = try server.expect(.ok, ReportReceipt.self,
                                           try await server.send(.post, APIPath.agentReports, token: host.credential, json: batch))
            #expect(resent.accepted == [])
            #expect(Set(resent.duplicates) == Set(batch.reports.map(\.id)))

            let admin = server.admin
            let vms = try server.expect(.ok, [VMInfo].self, try await server.send(.get, APIPath.vms + "?host=\(host.hostID)", token: admin))
            #expect(vms.map(\.name) == ["web1"])
            #expect(vms.first?.hostName == "hv1")
            let detail = try server.expect(.ok, HostDetail.self, try await server.send(.get, APIPath.host(host.hostID), token: admin))
            #expect(detail.vms.map(\.uuid) == ["6f1c2d3e-0000-4000-8000-000000000001"])
            #expect(detail.host.vmCount == 1)

            let jobs = try server.expect(.ok, [JobInfo].self, try await server.send(.get, APIPath.jobs, token: admin))
            #expect(Set(jobs.map(\.id)) == [succeeded.job!.jobID, failed.job!.jobID])
            let failures = try server.expect(.ok, [JobInfo].self, try await server.send(.get, APIPath.jobs + "?failed=true", token: admin))
            #expect(failures.map(\.id) == [failed.job!.jobID])
            #expect(failures.first?.error == "disk vanished")
            let limited = try server.expect(.ok, [JobInfo].self, try await server.send(.get, APIPath.jobs + "?limit=1", token: admin))
            #expect(limited.count == 1)
            let byState = try server.expect(.ok, [JobInfo].self,
                                            try await server.send(.get, APIPath.jobs + "?state=succeeded&vm=web1", token: admin))
            #expect(byState.map(\.id) == [succeeded.job!.jobID])

            let points = try server.expect(.ok, [PointInfo].self, try await server.send(.get, APIPath.points + "?vm=web1", token: admin))
            #expect(points.map(\.id) == [succeeded.job!.point!.id])
            #expect(points.first?.jobID == succeeded.job!.jobID)
            let usage = try server.expect(.ok, [StoreUsageInfo].self, try await server.send(.get, APIPath.storeUsage, token: admin))
            #expect(usage.map(\.store) == ["/srv/store"])
            #expect(usage.first?.samples.map(\.storedBytes) == [1 << 30])
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aSecondHostOfTheSameNameIsAConflict(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            _ = try await server.enroll("hv1")
            let created = try await server.repository.createEnrollmentToken(EnrollmentTokenRequest(), now: Date())
            let message = try server.refusal(.conflict, try await server.send(
                .post, APIPath.enroll, json: EnrollRequest(token: created.token, hostName: "hv1", agentVersion: "1.0")))
            #expect(message.contains("already enrolled"), "\(message)")
            #expect(try await server.counts().hosts == 1)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aRevokedHostIsShownRevokedAndItsCredentialStops(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let host = try await server.enroll("hv1")
            let revoked = try server.expect(.ok, HostInfo.self, try await server.send(.post, APIPath.hostRevoke(host.hostID), token: server.admin))
            #expect(revoked.revoked)
            #expect(revoked.health == .revoked)
            _ = try server.refusal(.unauthorized, try await server.send(.get, APIPath.agentPolicies, token: host.credential))
            _ = try server.refusal(.notFound, try await server.send(
                .post, APIPath.hostRevoke("00000000-0000-4000-8000-000000000000"), token: server.admin))
        }
    }
}
