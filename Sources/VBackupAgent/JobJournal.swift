import FleetAPI
import Foundation
import GRDB

/// The agent's SQLite journal (`<state dir>/agent.db`): every job, queued to finished, and the
/// last fire time each (policy, schedule, VM) was handled for, which is how a restarted agent
/// tells a missed run from one it already took.
///
/// WAL mode lets `vbackup agent run` queue jobs and `vbackup status` read while the agent
/// writes; the agent is the only process that moves a job past `queued`.
///
/// On an enrolled host it also holds the outbox of reports for the policy server
/// (`JobJournal+Outbox`), so a job's report is queued in the transaction that records the job.
public final class JobJournal: Sendable {
    let pool: DatabasePool
    /// Rung when a report is queued. Nil: the host is not enrolled, and jobs queue no reports.
    let reportQueued: Doorbell?

    public convenience init(directory: URL) throws {
        try self.init(directory: directory, reportQueued: nil)
    }

    init(directory: URL, reportQueued: Doorbell?) throws {
        self.reportQueued = reportQueued
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            pool = try DatabasePool(path: directory.appendingPathComponent("agent.db").path)
            try Self.migrator.migrate(pool)
        } catch {
            throw AgentError.journal("cannot open the job journal in \(directory.path): \(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "job") { table in
                table.primaryKey("id", .text)
                table.column("vmUUID", .text).notNull().indexed()
                table.column("vmName", .text).notNull()
                table.column("policy", .text).notNull()
                table.column("scheduleIndex", .integer)
                table.column("fullBackup", .boolean).notNull()
                table.column("trigger", .text).notNull()
                table.column("priority", .integer).notNull()
                table.column("state", .text).notNull().indexed()
                table.column("firedAt", .datetime).notNull()
                table.column("windowEnd", .datetime)
                table.column("queuedAt", .datetime).notNull()
                table.column("startedAt", .datetime)
                table.column("finishedAt", .datetime)
                table.column("pointID", .text)
                table.column("bytesRead", .integer).notNull()
                table.column("bytesStored", .integer).notNull()
                table.column("throttledSeconds", .double).notNull()
                table.column("overran", .boolean).notNull()
                table.column("error", .text)
                table.column("agentPID", .integer)
            }
            try db.create(table: "firing", options: [.withoutRowID]) { table in
                table.column("policy", .text).notNull()
                table.column("scheduleIndex", .integer).notNull()
                table.column("vmUUID", .text).notNull()
                table.column("firedAt", .datetime).notNull()
                table.primaryKey(["policy", "scheduleIndex", "vmUUID"])
            }
            // `vbackup agent run`: asks the agent to queue jobs now; the agent resolves the
            // policy and VMs (only it knows the policies in force) and deletes the request.
            try db.create(table: "request") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("policy", .text)
                table.column("vms", .text).notNull()
                table.column("full", .boolean).notNull()
                table.column("createdAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v2") { db in
            try createOutbox(db)
        }
        // Drills are journaled as jobs too; the jobs before them were all backups.
        migrator.registerMigration("v3") { db in
            try db.alter(table: "job") { table in
                table.add(column: "kind", .text).notNull().defaults(to: JobRecord.Kind.backup.rawValue)
            }
        }
        return migrator
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch { throw AgentError.journal("\(error)") }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch { throw AgentError.journal("\(error)") }
    }

    // MARK: Jobs

    public func insert(_ job: JobRecord) throws {
        try write { try job.insert($0) }
    }

    /// Records a job's new state. On an enrolled host a job that starts or ends also queues
    /// its report (with the point it made or tested, and a drill's verdict) in the same
    /// transaction: a crash keeps all or none.
    public func update(_ job: JobRecord, point: PointReport? = nil, drill: DrillResultReport? = nil) throws {
        let queued = try write { db in
            let before = reportQueued == nil ? nil : try String.fetchOne(db, sql: "SELECT state FROM job WHERE id = ?", arguments: [job.id])
            try job.update(db)
            guard reportQueued != nil, try Self.queueJobReport(job, previousState: before, point: point, db) else { return false }
            if let drill, job.state.isFinished { try Self.queueDrillReport(drill, db) }
            return true
        }
        if queued { reportQueued?.ring() }
    }


    public func jobs(in states: [JobRecord.State]) throws -> [JobRecord] {
        try read {
            try JobRecord.filter(states.map(\.rawValue).contains(Column("state")))
                .order(Column("queuedAt")).fetchAll($0)
        }
    }

    /// Finished jobs, newest first.
    public func recent(limit: Int) throws -> [JobRecord] {
        try read {
            try JobRecord.filter(![JobRecord.State.queued.rawValue, JobRecord.State.running.rawValue].contains(Column("state")))
                .order(Column("finishedAt").desc).limit(limit).fetchAll($0)
        }
    }

    // MARK: Requests

    public struct RunRequest: Sendable, Equatable {
        public var id: Int64
        public var policy: String?
        public var vms: [String]
        public var full: Bool
    }

    /// Queues a request for the agent (from `vbackup agent run`).
    public func request(policy: String?, vms: [String], full: Bool, at date: Date) throws {
        try write {
            try $0.execute(sql: "INSERT INTO request (policy, vms, full, createdAt) VALUES (?, ?, ?, ?)",
                           arguments: [policy, vms.joined(separator: "\n"), full, date])
        }
    }

    /// Takes every pending request, oldest first, handing each to `handle` inside the same
    /// transaction as its deletion and its jobs' insertion.
    func takeRequests(_ handle: (RunRequest, Database) throws -> Void) throws {
        try write { db in
            for row in try Row.fetchAll(db, sql: "SELECT * FROM request ORDER BY id") {
                let text: String = row["vms"]
                let request = RunRequest(id: row["id"], policy: row["policy"],
                                         vms: text.split(separator: "\n").map(String.init), full: row["full"])
                try handle(request, db)
                try db.execute(sql: "DELETE FROM request WHERE id = ?", arguments: [request.id])
            }
        }
    }

    // MARK: Firings

    /// The last fire time handled for this (policy, schedule, VM); nil if never.
    public func lastFiring(policy: String, scheduleIndex: Int, vmUUID: String) throws -> Date? {
        try read {
            try Date.fetchOne($0, sql: "SELECT firedAt FROM firing WHERE policy = ? AND scheduleIndex = ? AND vmUUID = ?",
                              arguments: [policy, scheduleIndex, vmUUID])
        }
    }

    /// Records a firing and queues its job in one transaction: a crash between the two can
    /// neither lose the job nor run it twice.
    public func fire(_ job: JobRecord) throws {
        try write { db in
            if let index = job.scheduleIndex {
                try db.execute(sql: "INSERT OR REPLACE INTO firing (policy, scheduleIndex, vmUUID, firedAt) VALUES (?, ?, ?, ?)",
                               arguments: [job.policy, index, job.vmUUID, job.firedAt])
            }
            try job.insert(db)
        }
    }

    /// Records a firing that queued nothing (a job for the VM was already queued or running).
    public func markFired(policy: String, scheduleIndex: Int, vmUUID: String, at firedAt: Date) throws {
        try write {
            try $0.execute(sql: "INSERT OR REPLACE INTO firing (policy, scheduleIndex, vmUUID, firedAt) VALUES (?, ?, ?, ?)",
                           arguments: [policy, scheduleIndex, vmUUID, firedAt])
        }
    }
}
