import FleetAPI
import Foundation
import GRDB

/// The outbox: reports for the policy server, kept in `agent.db` until the server acknowledges
/// them. A report's id is made when it is queued and sent with it, so a batch delivered twice
/// (the acknowledgement was lost, the agent restarted mid-delivery) is stored once by the server;
/// an id leaves the outbox only when the server named it in a receipt.
///
/// Rows are delivered oldest first (queue time, then insertion order), which keeps a job's
/// `running` report ahead of its end report.
extension JobJournal {
    static func createOutbox(_ db: Database) throws {
        try db.create(table: "outbox") { table in
            table.primaryKey("id", .text)
            table.column("kind", .text).notNull()
            /// The `AgentReport` as JSON (`APIJSON`).
            table.column("payload", .text).notNull()
            table.column("createdAt", .datetime).notNull().indexed()
            /// Deliveries tried and failed so far.
            table.column("attempts", .integer).notNull().defaults(to: 0)
        }
    }

    /// How much is waiting, for status.
    public struct OutboxSummary: Sendable, Equatable {
        public var count: Int
        public var oldest: Date?
    }

    /// Queues reports in a transaction of their own (inventory and store usage: nothing else
    /// changes with them).
    public func enqueue(_ reports: [AgentReport]) throws {
        guard !reports.isEmpty else { return }
        try write { db in
            for report in reports { try Self.insert(report, db) }
        }
        reportQueued?.ring()
    }

    /// The oldest reports, at most `limit` of them and about `maximumBytes` of JSON (always at
    /// least one, so one large report cannot block the queue).
    public func outbox(limit: Int, maximumBytes: Int = 1 << 20) throws -> [AgentReport] {
        let rows = try read { db in
            try String.fetchAll(db, sql: "SELECT payload FROM outbox ORDER BY createdAt, rowid LIMIT ?", arguments: [limit])
        }
        var reports: [AgentReport] = []
        var bytes = 0
        let decoder = APIJSON.decoder()
        for payload in rows {
            bytes += payload.utf8.count
            if !reports.isEmpty && bytes > maximumBytes { break }
            do {
                reports.append(try decoder.decode(AgentReport.self, from: Data(payload.utf8)))
            } catch {
                throw AgentError.journal("an outbox row is not a report: \(error)")
            }
        }
        return reports
    }

    /// Drops the reports the server acknowledged (accepted, or already had).
    public func acknowledge(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        try write { db in
            for id in ids { try db.execute(sql: "DELETE FROM outbox WHERE id = ?", arguments: [id]) }
        }
    }

    /// Counts a failed delivery of these reports.
    func recordAttempt(_ ids: [String]) throws {
        guard !ids.isEmpty else { return }
        try write { db in
            for id in ids { try db.execute(sql: "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", arguments: [id]) }
        }
    }

    public func outboxSummary() throws -> OutboxSummary {
        try read { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*) AS count, MIN(createdAt) AS oldest FROM outbox")
            return OutboxSummary(count: row?["count"] ?? 0, oldest: row?["oldest"])
        }
    }

    /// Queues the report of a job that has just started or ended; a write that leaves the state
    /// as it was (or moves it to `queued`) queues nothing. Returns whether it queued one.
    static func queueJobReport(_ job: JobRecord, previousState: String?, point: PointReport?, _ db: Database) throws -> Bool {
        guard job.state == .running || job.state.isFinished, previousState != job.state.rawValue else { return false }
        try insert(AgentReport(createdAt: Date(), job: job.report(point: point)), db)
        return true
    }

    /// Queues a drill's verdict, beside the end report of the job that ran it.
    static func queueDrillReport(_ drill: DrillResultReport, _ db: Database) throws {
        try insert(AgentReport(createdAt: Date(), drill: drill), db)
    }

    private static func insert(_ report: AgentReport, _ db: Database) throws {
        let payload = String(decoding: try APIJSON.encoder().encode(report), as: UTF8.self)
        try db.execute(sql: "INSERT INTO outbox (id, kind, payload, createdAt, attempts) VALUES (?, ?, ?, ?, 0)",
                       arguments: [report.id, report.kind.rawValue, payload, report.createdAt])
    }
}

extension JobRecord {
    /// The job as the server hears of it.
    func report(point: PointReport?) -> JobReport {
        JobReport(jobID: id, vmUUID: vmUUID, vmName: vmName, policy: policy, trigger: trigger.rawValue, state: state.rawValue,
                  fullBackup: fullBackup, queuedAt: queuedAt, startedAt: startedAt, finishedAt: finishedAt,
                  bytesRead: bytesRead, bytesStored: bytesStored, throttledSeconds: throttledSeconds, overran: overran,
                  error: error, point: point, kind: kind.rawValue)
    }
}
