import FleetAPI
import Foundation
import GRDB
import Testing
@testable import VBackupAgent

/// The outbox of an enrolled agent: reports wait in `agent.db` until the server acknowledges them.
@Suite("Report outbox")
struct OutboxTests {
    static func job(vm: String = "web-1") -> JobRecord {
        JobRecord(vmUUID: "6f1c2d3e-0000-4000-8000-000000000001", vmName: vm, policy: "nightly", scheduleIndex: 0,
                  fullBackup: false, trigger: .schedule, priority: 50, firedAt: Date(), windowEnd: nil, queuedAt: Date())
    }

    /// Whole seconds: the outbox keeps dates as the API writes them, to the millisecond.
    static func second(_ n: Int) -> Date { Date(timeIntervalSince1970: 1_750_000_000 + Double(n)) }

    static func usage(_ n: Int) -> AgentReport {
        AgentReport(createdAt: second(n), storeUsage: StoreUsageReport(store: "s\(n)", storedBytes: 1, logicalBytes: 2, points: n))
    }

    static let point = PointReport(id: "20250602T010000Z-ab12", store: "/var/lib/vbackup/store", createdAt: second(0),
                                   kind: "incremental", logicalBytes: 10 << 30, storedBytes: 12 << 20)

    @Test("a job's start and end each queue one report, in order, the end with its point; queuing and rewrites queue none")
    func jobReports() throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let bell = Doorbell()
        let journal = try JobJournal(directory: folder, reportQueued: bell)
        var job = Self.job()
        try journal.insert(job)
        #expect(try journal.outboxSummary().count == 0, "a queued job is not reported")

        job.state = .running
        job.startedAt = Date()
        try journal.update(job)
        #expect(bell.wait(seconds: 0), "queuing a report rings the doorbell")
        try journal.update(job)
        #expect(try journal.outboxSummary().count == 1, "a write that leaves the state as it was queues nothing")

        job.state = .succeeded
        job.finishedAt = Date()
        job.bytesRead = 42
        try journal.update(job, point: Self.point)
        let reports = try journal.outbox(limit: 100)
        #expect(reports.map(\.job?.state) == ["running", "succeeded"])
        #expect(reports.allSatisfy { $0.kind == .job && $0.job?.jobID == job.id && $0.problem == nil })
        #expect(reports[0].job?.point == nil)
        #expect(reports[1].job?.point == Self.point && reports[1].job?.bytesRead == 42)
    }

    @Test("the report is queued in the job's own transaction: when it cannot be queued, the job keeps its old state")
    func sameTransaction() throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let journal = try JobJournal(directory: folder, reportQueued: Doorbell())
        var job = Self.job()
        try journal.insert(job)
        // Make every insert into the outbox fail, from a second connection to the same file.
        let saboteur = try DatabaseQueue(path: folder.appendingPathComponent("agent.db").path)
        try saboteur.write { db in
            try db.execute(sql: "CREATE TRIGGER refuse BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        job.state = .running
        #expect(throws: AgentError.self) { try journal.update(job) }
        #expect(try journal.jobs(in: [.queued]).map(\.id) == [job.id], "the job update was rolled back with the report")
        #expect(try journal.jobs(in: [.running]).isEmpty)

        try saboteur.write { db in try db.execute(sql: "DROP TRIGGER refuse") }
        try journal.update(job)
        #expect(try journal.jobs(in: [.running]).map(\.id) == [job.id])
        #expect(try journal.outbox(limit: 10).map(\.job?.state) == ["running"])
    }

    @Test("a host that is not enrolled queues no job reports")
    func notEnrolled() throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let journal = try JobJournal(directory: folder)
        var job = Self.job()
        try journal.insert(job)
        job.state = .running
        try journal.update(job)
        #expect(try journal.outboxSummary() == JobJournal.OutboxSummary(count: 0, oldest: nil))
    }

    @Test("queued reports survive closing and reopening the journal, oldest first")
    func survivesRestart() throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let reports = (1...3).map(Self.usage)
        do {
            let journal = try JobJournal(directory: folder, reportQueued: Doorbell())
            for report in reports { try journal.enqueue([report]) }
        }
        let reopened = try JobJournal(directory: folder, reportQueued: Doorbell())
        #expect(try reopened.outbox(limit: 100) == reports)
        let summary = try reopened.outboxSummary()
        #expect(summary.count == 3 && summary.oldest == reports[0].createdAt)
    }

    @Test("acknowledged ids leave the outbox, the others stay in order; batches respect the count and size limits")
    func acknowledge() throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let journal = try JobJournal(directory: folder, reportQueued: Doorbell())
        let reports = (1...5).map(Self.usage)
        try journal.enqueue(reports)
        #expect(try journal.outbox(limit: 2) == Array(reports.prefix(2)))
        #expect(try journal.outbox(limit: 100, maximumBytes: 1) == [reports[0]], "one report even when it alone is over the size")

        try journal.acknowledge([reports[1].id, reports[3].id, "not-queued"])
        #expect(try journal.outbox(limit: 100).map(\.id) == [reports[0].id, reports[2].id, reports[4].id])
        try journal.recordAttempt([reports[0].id])
        let attempts = try journal.read { try Int.fetchOne($0, sql: "SELECT attempts FROM outbox WHERE id = ?", arguments: [reports[0].id]) }
        #expect(attempts == 1)
    }
}
