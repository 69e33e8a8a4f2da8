import FleetAPI
@testable import FleetDatabase
import Foundation
import Testing

/// DR drills on the server: each VM's verdict stored once, per host; the VMs' last drill and
/// last pass; a failed drill in the host's health; drill jobs apart from backups.
@Suite("Repository: drills")
struct RepositoryDrillTests {
    static let day: TimeInterval = 86_400

    static func drill(_ drillID: String, vm: String = "web", outcome: String = "passed", at finished: Date,
                      rto: Double? = 12.5, failure: String? = nil, jobID: String? = nil) -> DrillResultReport {
        DrillResultReport(
            drillID: drillID, jobID: jobID, vmUUID: "uuid-\(vm)", vmName: vm, pointID: "p-\(vm)", pointCreatedAt: finished - day,
            startedAt: finished - 60, finishedAt: finished, outcome: outcome, failure: failure,
            failedStep: failure == nil ? nil : "checks", diskMode: "overlay", runningSeconds: 1.5,
            rtoSeconds: outcome == "passed" ? rto : nil,
            checks: [DrillCheckReport(kind: "running", status: outcome == "passed" ? "passed" : "failed", detail: "running")])
    }

    static func report(_ drill: DrillResultReport) -> AgentReport {
        AgentReport(createdAt: drill.finishedAt, drill: drill)
    }

    @Test("a drill report is stored once per host and report id, and read back whole", arguments: TestDatabase.allCases)
    func storedOnce(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let host = try await repository.enrollTestHost("hv1")
            let drill = Self.drill("drill-1", at: testNow, jobID: "j1")
            let batch = ReportBatch(reports: [Self.report(drill)])
            #expect(try await repository.record(batch, hostID: host.hostID, now: testNow).accepted == [batch.reports[0].id])
            #expect(try await repository.record(batch, hostID: host.hostID, now: testNow).duplicates == [batch.reports[0].id])
            let stored = try await repository.drills(DrillFilter())
            #expect(stored == [DrillInfo(hostID: host.hostID, hostName: "hv1", drill)])

            // The same drill id from another host is that host's own drill, never a change to hv1's.
            let other = try await repository.enrollTestHost("hv2")
            var claimed = drill
            claimed.outcome = "failed"
            claimed.failure = "forged"
            _ = try await repository.record(ReportBatch(reports: [Self.report(claimed)]), hostID: other.hostID, now: testNow)
            let first = try await repository.drills(DrillFilter(hostID: host.hostID))
            #expect(first.map(\.outcome) == ["passed"] && first.map(\.hostName) == ["hv1"])
            #expect(try await repository.drills(DrillFilter(hostID: other.hostID)).map(\.failure) == ["forged"])
        }
    }

    @Test("VMs show their newest drill and their last pass; a failed last drill warns in the host's health",
          arguments: TestDatabase.allCases)
    func lastDrill(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let host = try await repository.enrollTestHost("hv1")
            _ = try await repository.record(ReportBatch(reports: [
                AgentReport(createdAt: testNow, inventory: testInventory([testVM("web", maximumPointAgeSeconds: nil),
                                                                          testVM("db", maximumPointAgeSeconds: nil),
                                                                          testVM("new", maximumPointAgeSeconds: nil)])),
                Self.report(Self.drill("d1", vm: "web", at: testNow - 2 * Self.day, rto: 10)),
                Self.report(Self.drill("d3", vm: "web", outcome: "failed", at: testNow, failure: "no console line matched login:")),
                Self.report(Self.drill("d2", vm: "web", at: testNow - Self.day, rto: 20)),
                Self.report(Self.drill("d4", vm: "db", at: testNow - Self.day, rto: 7.25)),
            ]), hostID: host.hostID, now: testNow)

            let vms = Dictionary(uniqueKeysWithValues: try await repository.vms(hostID: host.hostID, now: testNow).map { ($0.name, $0) })
            let web = try #require(vms["web"]), db = try #require(vms["db"]), new = try #require(vms["new"])
            #expect(web.lastDrill == VMDrillSummary(drillID: "d3", at: testNow, outcome: "failed", rtoSeconds: nil,
                                                    failure: "no console line matched login:"))
            #expect(web.lastPassedDrillAt == testNow - Self.day, "d2, the newer of the two passes")
            #expect(db.lastDrill == VMDrillSummary(drillID: "d4", at: testNow - Self.day, outcome: "passed", rtoSeconds: 7.25, failure: nil))
            #expect(db.lastPassedDrillAt == testNow - Self.day)
            #expect(new.lastDrill == nil && new.lastPassedDrillAt == nil)

            let health = try await repository.host(id: host.hostID, now: testNow)
            #expect(health.host.health == .warning)
            #expect(health.host.problems == ["VM web: last drill failed: no console line matched login:"])

            // A passing drill afterwards clears the warning.
            _ = try await repository.record(ReportBatch(reports: [Self.report(Self.drill("d5", vm: "web", at: testNow + 60))]),
                                            hostID: host.hostID, now: testNow + 60)
            #expect(try await repository.host(id: host.hostID, now: testNow + 60).host.problems == [])
        }
    }

    @Test("the drill list: newest first, filtered by host, VM (name or UUID) and failure, limited",
          arguments: TestDatabase.allCases)
    func list(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let a = try await repository.enrollTestHost("hv-a")
            let b = try await repository.enrollTestHost("hv-b")
            _ = try await repository.record(ReportBatch(reports: [
                Self.report(Self.drill("d1", vm: "web", at: testNow - 300)),
                Self.report(Self.drill("d2", vm: "db", outcome: "failed", at: testNow - 200, failure: "kernel panic")),
                Self.report(Self.drill("d3", vm: "web", outcome: "failed", at: testNow - 100, failure: "timeout")),
            ]), hostID: a.hostID, now: testNow)
            _ = try await repository.record(ReportBatch(reports: [Self.report(Self.drill("d4", vm: "web", at: testNow))]),
                                            hostID: b.hostID, now: testNow)
            let ids = { (filter: DrillFilter) in try await repository.drills(filter).map(\.drillID) }
            #expect(try await ids(DrillFilter()) == ["d4", "d3", "d2", "d1"])
            #expect(try await ids(DrillFilter(failedOnly: true)) == ["d3", "d2"])
            #expect(try await ids(DrillFilter(hostID: a.hostID, vm: "web")) == ["d3", "d1"])
            #expect(try await ids(DrillFilter(vm: "uuid-db")) == ["d2"])
            #expect(try await ids(DrillFilter(limit: 2)) == ["d4", "d3"])
            #expect(try await repository.drills(DrillFilter(failedOnly: true, vm: "db")).first?.failure == "kernel panic")
        }
    }

    @Test("a drill job is a job of kind drill: listed with the point it tested, but not a backup's last state, point or throughput",
          arguments: TestDatabase.allCases)
    func drillJobs(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let host = try await repository.enrollTestHost("hv1")
            let tested = PointReport(id: "p-web", store: "/srv", createdAt: testNow - Self.day, kind: "full", logicalBytes: 1, storedBytes: 1)
            var drillJob = testJob("jd", vm: "web", state: "failed", queuedAt: testNow, startedAt: testNow, finishedAt: testNow + 60,
                                   point: tested, error: "no console line matched")
            drillJob.kind = "drill"
            _ = try await repository.record(ReportBatch(reports: [
                AgentReport(createdAt: testNow, inventory: testInventory([testVM("web", maximumPointAgeSeconds: nil)])),
                AgentReport(createdAt: testNow, job: testJob("jb", vm: "web", state: "succeeded", queuedAt: testNow - 600,
                                                             startedAt: testNow - 600, finishedAt: testNow - 500, bytesRead: 1_000)),
                AgentReport(createdAt: testNow + 60, job: drillJob),
            ]), hostID: host.hostID, now: testNow + 60)

            let jobs = try await repository.jobs(JobFilter())
            #expect(jobs.map(\.id) == ["jd", "jb"] && jobs.map(\.kind) == ["drill", "backup"])
            #expect(jobs.first?.pointID == "p-web", "the drill names the point it tested")
            #expect(try await repository.points(hostID: nil, vm: nil, limit: 10).isEmpty, "a drill makes no point")
            let web = try #require(try await repository.vms(hostID: host.hostID, now: testNow + 60).first)
            #expect(web.lastJobState == "succeeded", "the newest backup's state, not the drill's")
            let nights = try await repository.throughputPerNight(since: testNow - Self.day)
            #expect(nights.map(\.jobs) == [1] && nights.map(\.failedJobs) == [0], "drills are not backup throughput")
        }
    }

    @Test("a malformed drill report (an unknown outcome, a job of unknown kind) is refused and stores nothing",
          arguments: TestDatabase.allCases)
    func malformed(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let host = try await repository.enrollTestHost("hv1")
            var drill = Self.drill("d1", at: testNow)
            drill.outcome = "maybe"
            var job = testJob("j1")
            job.kind = "restore"
            for bad in [Self.report(drill), AgentReport(createdAt: testNow, job: job)] {
                await #expect(throws: FleetError.self) {
                    try await repository.record(ReportBatch(reports: [bad]), hostID: host.hostID, now: testNow)
                }
            }
            #expect(try await repository.drills(DrillFilter()).isEmpty)
            #expect(try await repository.jobs(JobFilter()).isEmpty)
        }
    }

    @Test("a database of schema 1 migrates: its jobs become backups, drills can be stored", arguments: TestDatabase.allCases)
    func migratesFromVersion1(kind: TestDatabase) async throws {
        try await withRepositoryLocation(kind) { location in
            let raw = try await openSQLDatabase(DatabaseLocation(location), logger: testLogger)
            try await raw.transaction { tx in
                for statement in Schema.migrations[0].statements(raw.dialect) { try await tx.execute(statement) }
                try await tx.execute("CREATE TABLE schema_version (version BIGINT NOT NULL)")
                try await tx.execute("INSERT INTO schema_version (version) VALUES (1)")
                try await tx.execute(
                    """
                    INSERT INTO hosts (id, name, groups_json, token_hash, agent_version, enrolled_at)
                    VALUES ('h1', 'old-host', '[]', 'hash', '0.9', 0)
                    """)
                try await tx.execute(
                    """
                    INSERT INTO jobs (host_id, id, vm_uuid, vm_name, policy, trigger_kind, state, full_backup, queued_at,
                        bytes_read, bytes_stored, throttled_seconds, overran)
                    VALUES ('h1', 'old-job', 'u1', 'web', 'nightly', 'schedule', 'succeeded', 0, 0, 0, 0, 0, 0)
                    """)
            }
            await raw.close()

            let repository = try await openFleetRepository(location, logger: testLogger)
            #expect(try await repository.jobs(JobFilter()).map(\.kind) == ["backup"])
            _ = try await repository.record(ReportBatch(reports: [Self.report(Self.drill("d1", at: testNow))]), hostID: "h1", now: testNow)
            #expect(try await repository.drills(DrillFilter()).map(\.hostName) == ["old-host"])
            await repository.shutdown()
        }
    }
}
