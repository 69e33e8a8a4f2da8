import FleetAPI
import FleetDatabase
import Foundation
import Testing

@Suite("Repository: health, overdue, jobs and throughput")
struct RepositoryReadTests {
    static let hour: TimeInterval = 3_600
    static let day: TimeInterval = 86_400

    static func succeeded(_ id: String, vm: String, at time: Date) -> AgentReport {
        AgentReport(createdAt: time, job: testJob(id, vm: vm, state: "succeeded", queuedAt: time, startedAt: time,
                                                  finishedAt: time + 60, bytesRead: 6_000, bytesStored: 100,
                                                  point: PointReport(id: "p-\(id)", store: "/srv", createdAt: time + 60,
                                                                     kind: "incremental", logicalBytes: 1, storedBytes: 1)))
    }

    @Test("health: ok, then each warning with its own line, unreachable after 10 minutes, revoked",
          arguments: TestDatabase.allCases)
    func health(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let host = try await repository.enrollTestHost("web1")
            _ = try await repository.record(ReportBatch(reports: [
                AgentReport(createdAt: testNow, inventory: testInventory([testVM("a"), testVM("b"), testVM("idle", policy: nil)])),
                Self.succeeded("ja", vm: "a", at: testNow),
                Self.succeeded("jb", vm: "b", at: testNow),
            ]), hostID: host.hostID, now: testNow)
            func info(_ now: Date) async throws -> HostInfo {
                try await repository.host(id: host.hostID, now: now).host
            }
            let fine = try await info(testNow + 600)
            #expect(fine.health == .ok && fine.problems.isEmpty && fine.vmCount == 3)

            let silent = try await info(testNow + 601)
            #expect(silent.health == .unreachable && silent.problems == ["no contact for 10 min"])

            // b succeeded an hour ago, then its newest job failed; a is 25 h past its last point
            // (the policy allows 24 h).
            let later = testNow + 25 * Self.hour
            _ = try await repository.authenticate(token: host.credential, now: later)
            _ = try await repository.record(ReportBatch(reports: [
                Self.succeeded("jb1", vm: "b", at: later - Self.hour),
                AgentReport(createdAt: later, job: testJob("jb2", vm: "b", state: "failed", queuedAt: later, error: "disk full")),
                AgentReport(createdAt: later, inventory: testInventory([testVM("a"), testVM("b"), testVM("idle", policy: nil)],
                                                                       policyErrors: ["weekly: bad schedule"])),
            ]), hostID: host.hostID, now: later)
            let warned = try await info(later)
            #expect(warned.health == .warning)
            #expect(warned.problems == [
                "VM a: overdue, last point 25 h ago (policy nightly allows 24 h)",
                "VM b: last job failed",
                "policy refused: weekly: bad schedule",
            ])
            let vms = try await repository.vms(hostID: host.hostID, now: later)
            #expect(vms.map(\.overdue) == [true, false, false])
            #expect(vms.map(\.lastJobState) == ["succeeded", "failed", nil])
            #expect(vms.first?.lastPointID == "p-ja" && vms.first?.lastPointAt == testNow + 60)
            #expect(vms.first?.lastPointAgeSeconds == 25 * Self.hour - 60)

            let both = try await info(later + 700)
            #expect(both.health == .unreachable && both.problems.count == 4 && both.problems.first == "no contact for 12 min")

            _ = try await repository.revokeHost(id: host.hostID, now: later)
            #expect(try await repository.hosts(now: later).map(\.health) == [.revoked])
        }
    }

    @Test("overdue needs a policy and a maximum age; without a point the clock starts at first sighting",
          arguments: TestDatabase.allCases)
    func overdue(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let host = try await repository.enrollTestHost("web1")
            _ = try await repository.record(ReportBatch(reports: [
                AgentReport(createdAt: testNow, inventory: testInventory([
                    testVM("backed-up"), testVM("never-backed-up"), testVM("no-policy", policy: nil),
                    testVM("no-limit", maximumPointAgeSeconds: nil),
                ])),
                Self.succeeded("j1", vm: "backed-up", at: testNow + Self.hour),
            ]), hostID: host.hostID, now: testNow)
            func overdue(after seconds: TimeInterval) async throws -> [String] {
                try await repository.vms(hostID: nil, now: testNow + seconds).filter(\.overdue).map(\.name)
            }
            #expect(try await overdue(after: Self.day) == [])
            #expect(try await overdue(after: Self.day + 1) == ["never-backed-up"])
            #expect(try await overdue(after: Self.day + Self.hour + 61) == ["backed-up", "never-backed-up"])
            #expect(try await overdue(after: 30 * Self.day).count == 2)
        }
    }

    @Test("jobs: newest first, filtered by failure, state, host and VM, limit clamped to 1…1000",
          arguments: TestDatabase.allCases)
    func jobs(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let web = try await repository.enrollTestHost("web1")
            let db = try await repository.enrollTestHost("db1")
            let states = ["succeeded", "failed", "missed", "interrupted", "running"]
            let reports = states.enumerated().map { index, state in
                AgentReport(createdAt: testNow, job: testJob("w\(index)", vm: "web", state: state, queuedAt: testNow + Double(index)))
            }
            _ = try await repository.record(ReportBatch(reports: reports), hostID: web.hostID, now: testNow)
            _ = try await repository.record(ReportBatch(reports: [
                AgentReport(createdAt: testNow, job: testJob("d0", vm: "pg", vmUUID: "uuid-pg", state: "failed", queuedAt: testNow + 10)),
            ]), hostID: db.hostID, now: testNow)

            #expect(try await repository.jobs(JobFilter()).map(\.id) == ["d0", "w4", "w3", "w2", "w1", "w0"])
            #expect(try await repository.jobs(JobFilter(failedOnly: true)).map(\.id) == ["d0", "w3", "w2", "w1"])
            #expect(try await repository.jobs(JobFilter(state: "running")).map(\.id) == ["w4"])
            #expect(try await repository.jobs(JobFilter(failedOnly: true, hostID: web.hostID)).map(\.id) == ["w3", "w2", "w1"])
            #expect(try await repository.jobs(JobFilter(vm: "pg")).map(\.hostName) == ["db1"])
            #expect(try await repository.jobs(JobFilter(vm: "uuid-web", limit: 2)).map(\.id) == ["w4", "w3"])
            #expect(try await repository.jobs(JobFilter(limit: 0)).map(\.id) == ["d0"])
            #expect(try await repository.jobs(JobFilter(limit: 1_000_000)).count == 6)
            #expect(try await repository.points(hostID: nil, vm: nil, limit: -1).isEmpty)
        }
    }

    @Test("throughput: jobs summed per night (UTC start − 12 h), failures counted, running jobs left out",
          arguments: TestDatabase.allCases)
    func throughput(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let host = try await repository.enrollTestHost("web1")
            // testNow is 2025-06-15 12:00 UTC.
            func job(_ id: String, _ state: String, startedAfter offset: TimeInterval?, queuedAfter queued: TimeInterval = 0,
                     bytes: Int64) -> AgentReport {
                AgentReport(createdAt: testNow, job: testJob(id, state: state, queuedAt: testNow + queued,
                                                             startedAt: offset.map { testNow + $0 }, bytesRead: bytes,
                                                             bytesStored: bytes / 10))
            }
            _ = try await repository.record(ReportBatch(reports: [
                job("before", "succeeded", startedAfter: -2 * Self.day, bytes: 1),
                job("evening", "succeeded", startedAfter: 10 * Self.hour, bytes: 1_000),       // 15th 22:00
                job("after-midnight", "failed", startedAfter: 15 * Self.hour, bytes: 500),     // 16th 03:00
                job("next-noon", "succeeded", startedAfter: 24 * Self.hour + 1, bytes: 70),    // 16th 12:00:01
                job("missed", "missed", startedAfter: nil, queuedAfter: 11 * Self.hour, bytes: 0),
                job("running", "running", startedAfter: 11 * Self.hour, bytes: 9_999),
            ]), hostID: host.hostID, now: testNow)
            #expect(try await repository.throughputPerNight(since: testNow - Self.day) == [
                NightlyThroughput(night: "2025-06-15", bytesRead: 1_500, bytesStored: 150, jobs: 3, failedJobs: 2),
                NightlyThroughput(night: "2025-06-16", bytesRead: 70, bytesStored: 7, jobs: 1, failedJobs: 0),
            ])
        }
    }
}
