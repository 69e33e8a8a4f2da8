import FleetAPI
import Foundation

/// The drills the agents reported, as the reads show them: the list (`GET /api/v1/drills`) and
/// each VM's latest verdict and last pass (for `GET /api/v1/vms`, the hosts' health and the
/// dashboard). Runs on whatever executor it is given, inside the caller's transaction.
struct DrillReader {
    let tx: any SQLExecutor

    struct VMKey: Hashable {
        var hostID: String
        var uuid: String
    }

    struct Latest {
        var last: VMDrillSummary?
        var lastPassedAt: Date?
    }

    /// Each VM's newest drill (by finish time) and the finish time of its newest passed drill;
    /// one host's, or every host's.
    func latest(hostID: String?) async throws -> [VMKey: Latest] {
        let hostCondition = hostID == nil ? "" : " AND d.host_id = ?"
        let hostValue: [SQLValue] = hostID.map { [.text($0)] } ?? []
        var latest: [VMKey: Latest] = [:]
        let newest = try await tx.query(
            """
            SELECT d.host_id, d.vm_uuid, d.drill_id, d.finished_at, d.outcome, d.rto_seconds, d.failure FROM drills d
            WHERE NOT EXISTS (SELECT 1 FROM drills n WHERE n.host_id = d.host_id AND n.vm_uuid = d.vm_uuid
                AND (n.finished_at > d.finished_at OR (n.finished_at = d.finished_at AND n.drill_id > d.drill_id)))
            \(hostCondition)
            """, hostValue)
        for row in newest {
            let key = VMKey(hostID: try row.string("host_id"), uuid: try row.string("vm_uuid"))
            latest[key, default: Latest()].last = VMDrillSummary(
                drillID: try row.string("drill_id"), at: try row.date("finished_at"), outcome: try row.string("outcome"),
                rtoSeconds: try row.optionalDouble("rto_seconds"), failure: try row.optionalString("failure"))
        }
        let passed = try await tx.query(
            """
            SELECT d.host_id, d.vm_uuid, MAX(d.finished_at) AS passed_at FROM drills d WHERE d.outcome = 'passed'
            \(hostCondition) GROUP BY d.host_id, d.vm_uuid
            """, hostValue)
        for row in passed {
            let key = VMKey(hostID: try row.string("host_id"), uuid: try row.string("vm_uuid"))
            latest[key, default: Latest()].lastPassedAt = try row.optionalDate("passed_at")
        }
        return latest
    }

    /// Newest first by finish time.
    func list(_ filter: DrillFilter) async throws -> [DrillInfo] {
        var conditions: [String] = []
        var values: [SQLValue] = []
        if filter.failedOnly {
            conditions.append("d.outcome = ?")
            values.append(.text("failed"))
        }
        if let hostID = filter.hostID {
            conditions.append("d.host_id = ?")
            values.append(.text(hostID))
        }
        if let vm = filter.vm {
            conditions.append("(d.vm_name = ? OR d.vm_uuid = ?)")
            values += [.text(vm), .text(vm)]
        }
        values.append(.integer(Int64(min(max(filter.limit, 1), SQLFleetRepository.longestList))))
        let rows = try await tx.query(
            """
            SELECT d.*, h.name AS host_name FROM drills d JOIN hosts h ON h.id = d.host_id
            \(SQLFleetRepository.whereClause(conditions)) ORDER BY d.finished_at DESC, d.drill_id DESC LIMIT ?
            """, values)
        return try rows.map { row in
            DrillInfo(hostID: try row.string("host_id"), hostName: try row.string("host_name"), DrillResultReport(
                drillID: try row.string("drill_id"), jobID: try row.optionalString("job_id"), vmUUID: try row.string("vm_uuid"),
                vmName: try row.string("vm_name"), pointID: try row.string("point_id"),
                pointCreatedAt: try row.date("point_created_at"), startedAt: try row.date("started_at"),
                finishedAt: try row.date("finished_at"), outcome: try row.string("outcome"),
                failure: try row.optionalString("failure"), failedStep: try row.optionalString("failed_step"),
                diskMode: try row.string("disk_mode"), runningSeconds: try row.optionalDouble("running_seconds"),
                rtoSeconds: try row.optionalDouble("rto_seconds"), checks: try row.json("checks_json", as: [DrillCheckReport].self)))
        }
    }
}
