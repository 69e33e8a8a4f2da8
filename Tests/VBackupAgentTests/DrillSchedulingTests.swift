import FleetAPI
import Foundation
import GRDB
import Logging
import ResourceControl
import Testing
import VBackupPolicy
@testable import VBackupAgent

/// When the agent drills: a policy's drill calendar fires like a schedule of its own, the job
/// queue runs one drill at a time and never beside a job of the same VM, and a drill's end
/// queues its verdict with the job's report.
@Suite("Drill scheduling")
struct DrillSchedulingTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let web = VMFacts(name: "web1", uuid: "6f1c2d3e-0000-4000-8000-000000000001", host: "hv1")

    static func policySet() throws -> PolicySet {
        let yaml = """
            version: 1
            name: nightly
            priority: 60
            schedule:
              - calendar: "*-*-* 01:00"
                window: 4h
            drill:
              calendar: "Sun 04:00"
              window: 2h
              jitter: 0s
            """
        return PolicySet(policies: [try Policy.parse(yaml, file: "nightly.yaml", hostTimeZone: utc)])
    }

    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test("a drill calendar that fired makes a drill firing of its own; handled, it is not due again")
    func dueDrill() throws {
        let scheduler = Scheduler(policies: try Self.policySet(), agentStartedAt: Self.at("2025-06-15T03:00:00Z"))
        let sunday = Self.at("2025-06-15T04:10:00Z")  // a Sunday; the nightly backup's 01:00 run is also open
        let due = try scheduler.due(vms: [Self.web], now: sunday) { _, _, _ in nil }
        let drill = try #require(due.first { $0.kind == .drill })
        #expect(drill.scheduleIndex == Schedule.drillIndex && drill.policy == "nightly" && drill.vm == Self.web)
        #expect(drill.firedAt == Self.at("2025-06-15T04:00:00Z") && drill.windowEnd == Self.at("2025-06-15T06:00:00Z"))
        #expect(!drill.fullBackup && drill.priority == 60 && drill.trigger == .schedule)
        #expect(due.filter { $0.kind == .backup }.map(\.scheduleIndex) == [0], "the backup schedule fires on its own")

        let handled = try scheduler.due(vms: [Self.web], now: sunday) { _, index, _ in
            index == Schedule.drillIndex ? Self.at("2025-06-15T04:00:00Z") : nil
        }
        #expect(handled.map(\.kind) == [.backup])
        #expect(try scheduler.due(vms: [Self.web], now: Self.at("2025-06-15T06:00:00Z")) { _, _, _ in nil }.isEmpty,
                "both windows closed")

        let next = scheduler.upcoming(vms: [Self.web], now: sunday, limit: 10)
        #expect(next.map(\.kind) == [nil, "drill"] && next.last?.at == Self.at("2025-06-22T04:00:00Z"))
    }

    /// A job queue whose jobs run until the test lets them end.
    final class Gate: @unchecked Sendable {
        private let lock = NSLock()
        private var started: [String] = []
        private var open: Set<String> = []

        func run(_ job: RunningJob) {
            lock.withLock { started.append(job.record.id) }
            while !lock.withLock({ open.contains(job.record.id) }) { Thread.sleep(forTimeInterval: 0.01) }
        }

        var startedIDs: [String] { lock.withLock { started } }

        func release(_ id: String) { lock.withLock { _ = open.insert(id) } }
    }

    @Test("the queue never starts a drill beside a job of its VM, nor two drills at once")
    func oneDrillAtATime() throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let journal = try JobJournal(directory: folder)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let manager = JobManager(journal: journal, governor: BandwidthGovernor(hostLimit: nil), metrics: AgentMetrics(), logger: logger)
        let gate = Gate()
        manager.execute = { gate.run($0) }
        let now = Date()
        func job(_ vm: String, _ kind: JobRecord.Kind, priority: Int) -> JobRecord {
            JobRecord(vmUUID: "uuid-\(vm)", vmName: vm, policy: "nightly", scheduleIndex: kind == .drill ? Schedule.drillIndex : 0,
                      fullBackup: false, trigger: .schedule, priority: priority, firedAt: now, windowEnd: nil, queuedAt: now, kind: kind)
        }
        let backupA = job("a", .backup, priority: 90), drillA = job("a", .drill, priority: 80)
        let drillB = job("b", .drill, priority: 70), drillC = job("c", .drill, priority: 60)
        for record in [backupA, drillA, drillB, drillC] { try journal.insert(record) }

        try manager.dispatch(now: now, slots: 10, paused: false) { _ in nil }
        try waitUntil { gate.startedIDs.count == 2 }
        #expect(Set(gate.startedIDs) == [backupA.id, drillB.id], "drill a waits for a's backup, drill c for drill b")

        gate.release(drillB.id)
        try waitUntil { !manager.isDrilling }
        try manager.dispatch(now: now, slots: 10, paused: false) { _ in nil }
        try waitUntil { gate.startedIDs.count == 3 }
        #expect(gate.startedIDs.last == drillC.id, "a's backup still runs, so c's drill goes first")

        gate.release(backupA.id)
        gate.release(drillC.id)
        try waitUntil { manager.runningJobs.isEmpty }
        try manager.dispatch(now: now, slots: 10, paused: false) { _ in nil }
        try waitUntil { gate.startedIDs.count == 4 }
        #expect(gate.startedIDs.last == drillA.id)
        gate.release(drillA.id)
        #expect(manager.stopAll(reason: "test over", timeout: 10))
    }

    @Test("a drill's end queues the job's report (kind drill, the point it tested) and the verdict, in that order")
    func verdictQueuedWithTheJob() throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let journal = try JobJournal(directory: folder, reportQueued: Doorbell())
        var job = JobRecord(vmUUID: Self.web.uuid, vmName: "web1", policy: "nightly", scheduleIndex: Schedule.drillIndex,
                            fullBackup: false, trigger: .schedule, priority: 50, firedAt: Date(), windowEnd: nil, queuedAt: Date(),
                            kind: .drill)
        try journal.insert(job)
        job.state = .running
        try journal.update(job)
        let verdict = DrillResultReport(
            drillID: "drill-20250615-040000-ab12", jobID: job.id, vmUUID: Self.web.uuid, vmName: "web1", pointID: "p1",
            pointCreatedAt: OutboxTests.second(0), startedAt: OutboxTests.second(10), finishedAt: OutboxTests.second(20),
            outcome: "failed", failure: "kernel panic",
            failedStep: "checks", diskMode: "overlay", runningSeconds: 1, rtoSeconds: nil, checks: [])
        job.state = .running
        try journal.update(job, drill: verdict)
        #expect(try journal.outbox(limit: 10).count == 1, "no verdict before the drill ended")

        job.state = .failed
        job.pointID = "p1"
        job.error = "drill failed (checks): kernel panic"
        let tested = PointReport(id: "p1", store: "/srv/store", createdAt: Date(), kind: "full", logicalBytes: 1, storedBytes: 1)
        try journal.update(job, point: tested, drill: verdict)
        let reports = try journal.outbox(limit: 10)
        #expect(reports.map(\.kind) == [.job, .job, .drill])
        #expect(reports.map(\.job?.kind) == ["drill", "drill", nil] && reports[1].job?.point?.id == "p1")
        #expect(reports[2].drill == verdict && reports.allSatisfy { $0.problem == nil })
    }

    @Test("a journal of the format before drills opens with its jobs as backups")
    func oldJournal() throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        // agent.db as an agent before drills left it: migrations v1 and v2, one queued job.
        let old = try DatabaseQueue(path: folder.appendingPathComponent("agent.db").path)
        try old.write { db in
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('v1'), ('v2');
                CREATE TABLE job (id TEXT PRIMARY KEY, vmUUID TEXT NOT NULL, vmName TEXT NOT NULL, policy TEXT NOT NULL,
                    scheduleIndex INTEGER, fullBackup BOOLEAN NOT NULL, "trigger" TEXT NOT NULL, priority INTEGER NOT NULL,
                    state TEXT NOT NULL, firedAt DATETIME NOT NULL, windowEnd DATETIME, queuedAt DATETIME NOT NULL,
                    startedAt DATETIME, finishedAt DATETIME, pointID TEXT, bytesRead INTEGER NOT NULL,
                    bytesStored INTEGER NOT NULL, throttledSeconds DOUBLE NOT NULL, overran BOOLEAN NOT NULL, error TEXT,
                    agentPID INTEGER);
                INSERT INTO job VALUES ('j1', 'u1', 'web1', 'nightly', 0, 0, 'schedule', 50, 'queued', '2025-06-15 01:00:00.000',
                    NULL, '2025-06-15 01:00:00.000', NULL, NULL, NULL, 0, 0, 0, 0, NULL, NULL);
                """)
        }
        try old.close()
        let journal = try JobJournal(directory: folder)
        let jobs = try journal.jobs(in: [.queued])
        #expect(jobs.map(\.id) == ["j1"] && jobs.map(\.kind) == [.backup])
    }
}

/// Polls `condition` for up to 10 seconds.
func waitUntil(_ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(10)
    while !condition() {
        guard Date() < deadline else { throw AgentError.notRunning("timed out waiting") }
        Thread.sleep(forTimeInterval: 0.01)
    }
}
