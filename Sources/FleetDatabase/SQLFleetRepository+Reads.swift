import FleetAPI
import Foundation

/// The admin API's and dashboard's reads. Each runs in one transaction, so what it shows is
/// one consistent moment.
extension SQLFleetRepository {
    /// The most rows a list returns (`limit` is clamped to 1…1000).
    static let longestList = 1000

    func hosts(now: Date) async throws -> [HostInfo] {
        try await database.transaction { try await HostReader(tx: $0, now: now).hosts() }
    }

    func host(id: String, now: Date) async throws -> HostDetail {
        try await database.transaction { try await HostReader(tx: $0, now: now).host(id: id) }
    }

    func vms(hostID: String?, now: Date) async throws -> [VMInfo] {
        try await database.transaction { try await HostReader(tx: $0, now: now).vms(hostID: hostID) }
    }

    /// Newest first by queue time.
    func jobs(_ filter: JobFilter) async throws -> [JobInfo] {
        var conditions: [String] = []
        var values: [SQLValue] = []
        if filter.failedOnly {
            conditions.append("j.state IN (?, ?, ?)")
            values += FleetRules.failedStates.map(SQLValue.text)
        }
        if let state = filter.state {
            conditions.append("j.state = ?")
            values.append(.text(state))
        }
        if let hostID = filter.hostID {
            conditions.append("j.host_id = ?")
            values.append(.text(hostID))
        }
        if let vm = filter.vm {
            conditions.append("(j.vm_name = ? OR j.vm_uuid = ?)")
            values += [.text(vm), .text(vm)]
        }
        values.append(.integer(Int64(min(max(filter.limit, 1), Self.longestList))))
        let rows = try await database.query(
            """
            SELECT j.*, h.name AS host_name FROM jobs j JOIN hosts h ON h.id = j.host_id
            \(Self.whereClause(conditions)) ORDER BY j.queued_at DESC, j.id DESC LIMIT ?
            """, values)
        return try rows.map(Self.jobInfo)
    }

    /// Newest first by creation time.
    func points(hostID: String?, vm: String?, limit: Int) async throws -> [PointInfo] {
        var conditions: [String] = []
        var values: [SQLValue] = []
        if let hostID {
            conditions.append("p.host_id = ?")
            values.append(.text(hostID))
        }
        if let vm {
            conditions.append("(p.vm_name = ? OR p.vm_uuid = ?)")
            values += [.text(vm), .text(vm)]
        }
        values.append(.integer(Int64(min(max(limit, 1), Self.longestList))))
        let rows = try await database.query(
            """
            SELECT p.*, h.name AS host_name FROM points p JOIN hosts h ON h.id = p.host_id
            \(Self.whereClause(conditions)) ORDER BY p.created_at DESC, p.id DESC LIMIT ?
            """, values)
        return try rows.map { row in
            PointInfo(
                id: try row.string("id"), hostID: try row.string("host_id"), hostName: try row.string("host_name"),
                vmUUID: try row.string("vm_uuid"), vmName: try row.string("vm_name"), store: try row.string("store"),
                createdAt: try row.date("created_at"), kind: try row.string("kind"),
                logicalBytes: try row.int64("logical_bytes"), storedBytes: try row.int64("stored_bytes"),
                jobID: try row.string("job_id"))
        }
    }

    func drills(_ filter: DrillFilter) async throws -> [DrillInfo] {
        try await database.transaction { try await DrillReader(tx: $0).list(filter) }
    }

    /// One entry per (host, store), sorted by host name and store, its samples oldest first.
    func storeUsage(since: Date) async throws -> [StoreUsageInfo] {
        let rows = try await database.query(
            """
            SELECT s.host_id, h.name AS host_name, s.store, s.at, s.stored_bytes, s.logical_bytes, s.points
            FROM store_usage s JOIN hosts h ON h.id = s.host_id WHERE s.at >= ?
            """, since)
        var usage: [String: StoreUsageInfo] = [:]
        for row in rows {
            let hostID = try row.string("host_id"), hostName = try row.string("host_name"), store = try row.string("store")
            let sample = StoreUsageInfo.Sample(
                at: try row.date("at"), storedBytes: try row.int64("stored_bytes"),
                logicalBytes: try row.int64("logical_bytes"), points: try row.int("points"))
            usage["\(hostID)\u{0}\(store)", default: StoreUsageInfo(
                hostID: hostID, hostName: hostName, store: store, samples: [])].samples.append(sample)
        }
        return usage.values
            .map { entry in
                var entry = entry
                entry.samples.sort { $0.at < $1.at }
                return entry
            }
            .sorted { ($0.hostName, $0.hostID, $0.store) < ($1.hostName, $1.hostID, $1.store) }
    }

    /// Finished backup jobs (not running, not drills) that started (or, never started, were queued) since
    /// `since`, summed per night (`FleetRules.night`), oldest night first.
    func throughputPerNight(since: Date) async throws -> [NightlyThroughput] {
        let rows = try await database.query(
            """
            SELECT started_at, queued_at, state, bytes_read, bytes_stored FROM jobs
            WHERE state <> ? AND kind = ? AND (started_at >= ? OR (started_at IS NULL AND queued_at >= ?))
            """, "running", FleetRules.backupKind, since, since)
        var nights: [String: NightlyThroughput] = [:]
        for row in rows {
            let night = FleetRules.night(of: try row.optionalDate("started_at") ?? row.date("queued_at"))
            var total = nights[night] ?? NightlyThroughput(night: night, bytesRead: 0, bytesStored: 0, jobs: 0, failedJobs: 0)
            total.bytesRead += try row.int64("bytes_read")
            total.bytesStored += try row.int64("bytes_stored")
            total.jobs += 1
            if FleetRules.failedStates.contains(try row.string("state")) { total.failedJobs += 1 }
            nights[night] = total
        }
        return nights.values.sorted { $0.night < $1.night }
    }

    static func whereClause(_ conditions: [String]) -> String {
        conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
    }

    static func jobInfo(_ row: SQLRow) throws -> JobInfo {
        let startedAt = try row.optionalDate("started_at"), finishedAt = try row.optionalDate("finished_at")
        let bytesRead = try row.int64("bytes_read")
        var bytesPerSecond: Double?
        if let startedAt, let finishedAt, finishedAt > startedAt {
            bytesPerSecond = Double(bytesRead) / finishedAt.timeIntervalSince(startedAt)
        }
        return JobInfo(
            id: try row.string("id"), hostID: try row.string("host_id"), hostName: try row.string("host_name"),
            vmUUID: try row.string("vm_uuid"), vmName: try row.string("vm_name"), policy: try row.string("policy"),
            trigger: try row.string("trigger_kind"), state: try row.string("state"), fullBackup: try row.bool("full_backup"),
            queuedAt: try row.date("queued_at"), startedAt: startedAt, finishedAt: finishedAt, bytesRead: bytesRead,
            bytesStored: try row.int64("bytes_stored"), bytesPerSecond: bytesPerSecond,
            throttledSeconds: try row.double("throttled_seconds"), overran: try row.bool("overran"),
            error: try row.optionalString("error"), pointID: try row.optionalString("point_id"), kind: try row.string("kind"))
    }
}
