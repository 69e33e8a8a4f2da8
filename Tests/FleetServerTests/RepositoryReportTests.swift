import FleetAPI
import FleetDatabase
import Foundation
import Testing

@Suite("Repository: agent reports")
struct RepositoryReportTests {
    static func point(_ id: String, at: Date) -> PointReport {
        PointReport(id: id, store: "/srv/backup", createdAt: at, kind: "full", logicalBytes: 10_000, storedBytes: 4_000)
    }

    @Test("a batch sent twice is stored once: the second receipt lists every id as a duplicate",
          arguments: TestDatabase.allCases)
    func dedupe(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let host = try await repository.enrollTestHost("web1")
            let batch = ReportBatch(reports: [
                AgentReport(createdAt: testNow, inventory: testInventory([testVM("web")])),
                AgentReport(createdAt: testNow, job: testJob("j1", startedAt: testNow, finishedAt: testNow + 10, bytesRead: 1_000,
                                                             point: Self.point("p1", at: testNow + 10))),
                AgentReport(createdAt: testNow, storeUsage: StoreUsageReport(store: "/srv/backup", storedBytes: 4_000,
                                                                            logicalBytes: 10_000, points: 1)),
            ])
            let ids = batch.reports.map(\.id)
            #expect(try await repository.record(batch, hostID: host.hostID, now: testNow)
                == ReportReceipt(accepted: ids, duplicates: []))
            #expect(try await repository.record(batch, hostID: host.hostID, now: testNow + 60)
                == ReportReceipt(accepted: [], duplicates: ids))

            #expect(try await repository.jobs(JobFilter()).map(\.id) == ["j1"])
            #expect(try await repository.points(hostID: nil, vm: nil, limit: 100).map(\.id) == ["p1"])
            #expect(try await repository.storeUsage(since: testNow - 1).flatMap(\.samples).count == 1)
            #expect(try await repository.vms(hostID: host.hostID, now: testNow).count == 1)

            // The same report ids from another host are that host's own reports.
            let other = try await repository.enrollTestHost("web2")
            #expect(try await repository.record(batch, hostID: other.hostID, now: testNow).accepted == ids)
        }
    }

    @Test("a job's later report replaces its earlier one, but a late 'running' never undoes a result",
          arguments: TestDatabase.allCases)
    func jobReplacement(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let host = try await repository.enrollTestHost("web1")
            let running = testJob("j1", state: "running", startedAt: testNow + 5)
            let done = testJob("j1", state: "succeeded", startedAt: testNow + 5, finishedAt: testNow + 25, bytesRead: 2_000,
                               bytesStored: 500, point: Self.point("p1", at: testNow + 25))
            _ = try await repository.record(ReportBatch(reports: [AgentReport(createdAt: testNow, job: running)]),
                                            hostID: host.hostID, now: testNow)
            let first = try await repository.jobs(JobFilter())
            #expect(first.map(\.state) == ["running"] && first.first?.bytesPerSecond == nil && first.first?.pointID == nil)

            _ = try await repository.record(ReportBatch(reports: [AgentReport(createdAt: testNow + 25, job: done)]),
                                            hostID: host.hostID, now: testNow + 25)
            _ = try await repository.record(ReportBatch(reports: [AgentReport(createdAt: testNow + 6, job: running)]),
                                            hostID: host.hostID, now: testNow + 30)
            let jobs = try await repository.jobs(JobFilter())
            #expect(jobs.count == 1)
            let job = try #require(jobs.first)
            #expect(job.state == "succeeded" && job.hostName == "web1" && job.vmName == "web" && job.pointID == "p1")
            #expect(job.startedAt == testNow + 5 && job.finishedAt == testNow + 25 && job.bytesRead == 2_000 && job.bytesStored == 500)
            #expect(job.bytesPerSecond == 100)

            let points = try await repository.points(hostID: host.hostID, vm: "web", limit: 10)
            #expect(points == [PointInfo(id: "p1", hostID: host.hostID, hostName: "web1", vmUUID: "uuid-web", vmName: "web",
                                         store: "/srv/backup", createdAt: testNow + 25, kind: "full", logicalBytes: 10_000,
                                         storedBytes: 4_000, jobID: "j1")])
        }
    }

    @Test("an inventory replaces the host's VMs, keeps each VM's first sighting, and updates versions and errors",
          arguments: TestDatabase.allCases)
    func inventoryReplacement(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let host = try await repository.enrollTestHost("web1")
            let day: TimeInterval = 86_400
            _ = try await repository.record(ReportBatch(reports: [
                AgentReport(createdAt: testNow, inventory: testInventory([testVM("a"), testVM("b")])),
            ]), hostID: host.hostID, now: testNow)
            var renamed = testVM("a", tags: ["prod"])
            renamed.name = "a-renamed"
            _ = try await repository.record(ReportBatch(reports: [
                AgentReport(createdAt: testNow + 2 * day, inventory: testInventory(
                    [renamed, testVM("c")], policyErrors: ["weekly: line 3: unknown key"], agentVersion: "1.1.0")),
            ]), hostID: host.hostID, now: testNow + 2 * day)

            let detail = try await repository.host(id: host.hostID, now: testNow + 2 * day)
            #expect(detail.vms.map(\.name) == ["a-renamed", "c"])
            #expect(detail.vms.map(\.tags) == [["prod"], []])
            #expect(detail.vms.first?.disks == testVM("a").disks)
            // a was first seen two days ago (no point since: overdue); c just now.
            #expect(detail.vms.map(\.overdue) == [true, false])
            #expect(detail.host.agentVersion == "1.1.0" && detail.host.libvirtVersion == "9.0.0" && detail.host.vmCount == 2)
            #expect(detail.host.policyErrors == ["weekly: line 3: unknown key"])

            // An older inventory arriving late is acknowledged but changes nothing.
            let late = try await repository.record(ReportBatch(reports: [
                AgentReport(createdAt: testNow + day, inventory: testInventory([testVM("old")])),
            ]), hostID: host.hostID, now: testNow + 2 * day)
            #expect(late.accepted.count == 1)
            #expect(try await repository.vms(hostID: host.hostID, now: testNow).map(\.name) == ["a-renamed", "c"])
        }
    }

    @Test("a batch with a malformed report is refused whole and stores nothing", arguments: TestDatabase.allCases)
    func malformedBatch(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let host = try await repository.enrollTestHost("web1")
            let good = AgentReport(createdAt: testNow, job: testJob("j1"))
            var bad = AgentReport(createdAt: testNow, job: testJob("j2"))
            bad.inventory = testInventory([])
            await #expect(throws: FleetError.self) {
                try await repository.record(ReportBatch(reports: [good, bad]), hostID: host.hostID, now: testNow)
            }
            #expect(try await repository.jobs(JobFilter()).isEmpty)
            #expect(try await repository.record(ReportBatch(reports: [good]), hostID: host.hostID, now: testNow).accepted == [good.id])

            let tooMany = ReportBatch(reports: (0...maximumReportsPerBatch).map { _ in good })
            await #expect(throws: FleetError.self) {
                try await repository.record(tooMany, hostID: host.hostID, now: testNow)
            }
            await #expect(throws: FleetError.notFound("no host with id ghost")) {
                try await repository.record(ReportBatch(reports: [good]), hostID: "ghost", now: testNow)
            }
        }
    }

    @Test("store usage: one entry per host and store, samples oldest first, from `since` on", arguments: TestDatabase.allCases)
    func storeUsage(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let host = try await repository.enrollTestHost("web1")
            func usage(_ store: String, _ bytes: Int64, at offset: TimeInterval) -> AgentReport {
                AgentReport(createdAt: testNow + offset,
                            storeUsage: StoreUsageReport(store: store, storedBytes: bytes, logicalBytes: bytes * 2, points: Int(bytes)))
            }
            _ = try await repository.record(ReportBatch(reports: [
                usage("/b", 3, at: 300), usage("/a", 2, at: 200), usage("/a", 1, at: 100), usage("/a", 0, at: -100),
            ]), hostID: host.hostID, now: testNow)
            let stores = try await repository.storeUsage(since: testNow)
            #expect(stores.map(\.store) == ["/a", "/b"])
            #expect(stores.first?.samples == [
                StoreUsageInfo.Sample(at: testNow + 100, storedBytes: 1, logicalBytes: 2, points: 1),
                StoreUsageInfo.Sample(at: testNow + 200, storedBytes: 2, logicalBytes: 4, points: 2),
            ])
            #expect(stores.allSatisfy { $0.hostID == host.hostID && $0.hostName == "web1" })
        }
    }
}
