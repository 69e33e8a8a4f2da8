import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import VBackupServer

/// Drill verdicts over HTTP: a host delivers them like any report, the admin reads them in
/// `/drills` and in each VM of `/vms`; a malformed one is refused whole.
@Suite struct APIDrillTests {
    @Test(arguments: TestDatabase.allCases)
    func drillsAreDeliveredOnceAndShowInDrillsAndVMs(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let host = try await server.enroll("hv1")
            let passed = TestReport.drill(at: TestReport.t0)
            let failed = TestReport.drill(outcome: "failed", at: TestReport.t0.addingTimeInterval(600))
            let batch = ReportBatch(reports: [TestReport.inventory(), passed, failed])
            let receipt = try server.expect(.ok, ReportReceipt.self,
                                            try await server.send(.post, APIPath.agentReports, token: host.credential, json: batch))
            #expect(Set(receipt.accepted) == Set(batch.reports.map(\.id)))
            let again = try server.expect(.ok, ReportReceipt.self,
                                          try await server.send(.post, APIPath.agentReports, token: host.credential, json: batch))
            #expect(Set(again.duplicates) == Set(batch.reports.map(\.id)) && again.accepted.isEmpty)

            let admin = server.admin
            let all = try server.expect(.ok, [DrillInfo].self, try await server.send(.get, APIPath.drills, token: admin))
            #expect(all.map(\.drillID) == [failed.drill!.drillID, passed.drill!.drillID], "newest first, each once")
            #expect(all.first == DrillInfo(hostID: host.hostID, hostName: "hv1", failed.drill!))
            let onlyFailed = try server.expect(.ok, [DrillInfo].self,
                                               try await server.send(.get, APIPath.drills + "?failed=true&vm=web1", token: admin))
            #expect(onlyFailed.map(\.outcome) == ["failed"] && onlyFailed.first?.failure == "no console line matched login:")
            let elsewhere = try server.expect(.ok, [DrillInfo].self, try await server.send(
                .get, APIPath.drills + "?host=00000000-0000-4000-8000-000000000000", token: admin))
            #expect(elsewhere.isEmpty)

            let vm = try #require(try server.expect(.ok, [VMInfo].self, try await server.send(.get, APIPath.vms, token: admin)).first)
            #expect(vm.lastDrill?.outcome == "failed" && vm.lastDrill?.drillID == failed.drill!.drillID)
            #expect(vm.lastDrill?.failure == "no console line matched login:" && vm.lastDrill?.rtoSeconds == nil)
            #expect(vm.lastPassedDrillAt == TestReport.t0)
            let hostInfo = try server.expect(.ok, HostDetail.self, try await server.send(.get, APIPath.host(host.hostID), token: admin)).host
            #expect(hostInfo.health == .warning && hostInfo.problems == ["VM web1: last drill failed: no console line matched login:"],
                    "\(hostInfo.problems)")
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aDrillWithAnUnknownOutcomeIsRefusedWithTheRestOfItsBatch(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let host = try await server.enroll("hv1")
            var bad = TestReport.drill()
            bad.drill?.outcome = "probably"
            let message = try server.refusal(.badRequest, try await server.send(
                .post, APIPath.agentReports, token: host.credential, json: ReportBatch(reports: [TestReport.job(), bad])))
            #expect(message.contains("drill outcome 'probably' is not passed or failed"), "\(message)")
            var unpaired = TestReport.drill()
            unpaired.kind = .job
            _ = try server.refusal(.badRequest, try await server.send(
                .post, APIPath.agentReports, token: host.credential, json: ReportBatch(reports: [unpaired])))
            #expect(try await server.repository.drills(DrillFilter()).isEmpty)
            #expect(try await server.counts().jobs == 0)
        }
    }
}
