import FleetAPI
import Foundation

/// Hosts and their VMs as the reads show them, with health and overdue worked out at `now`.
/// Runs on whatever executor it is given, so `revokeHost` reads inside its own transaction.
/// Lists are sorted here, not by SQL, because the engines' text collations differ.
struct HostReader {
    let tx: any SQLExecutor
    let now: Date

    static let hostColumns = """
        id, name, groups_json, agent_version, libvirt_version, enrolled_at, last_contact, revoked_at, policy_errors_json
        """

    func hosts() async throws -> [HostInfo] {
        let rows = try await tx.query("SELECT \(Self.hostColumns) FROM hosts")
        let vmsByHost = Dictionary(grouping: try await vms(hostID: nil), by: \.hostID)
        return try rows.map { try hostInfo($0, vms: vmsByHost[try $0.string("id")] ?? []) }
            .sorted { ($0.name, $0.enrolledAt) < ($1.name, $1.enrolledAt) }
    }

    func host(id: String) async throws -> HostDetail {
        guard let row = try await tx.queryFirst("SELECT \(Self.hostColumns) FROM hosts WHERE id = ?", id) else {
            throw FleetError.notFound("no host with id \(id)")
        }
        let vms = try await vms(hostID: id)
        return HostDetail(host: try hostInfo(row, vms: vms), vms: vms)
    }

    /// Each VM with its newest point (by creation time), the state of its newest backup job (by
    /// queue time) and its drills (`DrillReader`).
    func vms(hostID: String?) async throws -> [VMInfo] {
        let sql = """
            SELECT v.host_id, h.name AS host_name, v.uuid, v.name, v.state, v.tags_json, v.disks_json, v.policy,
                v.maximum_point_age_seconds, v.first_seen,
                (SELECT p.id FROM points p WHERE p.host_id = v.host_id AND p.vm_uuid = v.uuid
                    ORDER BY p.created_at DESC, p.id DESC LIMIT 1) AS last_point_id,
                (SELECT MAX(p.created_at) FROM points p WHERE p.host_id = v.host_id AND p.vm_uuid = v.uuid) AS last_point_at,
                (SELECT j.state FROM jobs j WHERE j.host_id = v.host_id AND j.vm_uuid = v.uuid AND j.kind = 'backup'
                    ORDER BY j.queued_at DESC, j.id DESC LIMIT 1) AS last_job_state
            FROM vms v JOIN hosts h ON h.id = v.host_id
            """
        let rows = if let hostID {
            try await tx.query(sql + " WHERE v.host_id = ?", hostID)
        } else {
            try await tx.query(sql)
        }
        let drills = try await DrillReader(tx: tx).latest(hostID: hostID)
        return try rows.map { try vmInfo($0, drills: drills) }
            .sorted { ($0.hostName, $0.name, $0.uuid) < ($1.hostName, $1.name, $1.uuid) }
    }

    private func vmInfo(_ row: SQLRow, drills: [DrillReader.VMKey: DrillReader.Latest]) throws -> VMInfo {
        let drill = drills[DrillReader.VMKey(hostID: try row.string("host_id"), uuid: try row.string("uuid"))]
        let lastPointAt = try row.optionalDate("last_point_at")
        let policy = try row.optionalString("policy")
        let maximumAge = try row.optionalDouble("maximum_point_age_seconds")
        return VMInfo(
            hostID: try row.string("host_id"), hostName: try row.string("host_name"), uuid: try row.string("uuid"),
            name: try row.string("name"), state: try row.string("state"), tags: try row.json("tags_json", as: [String].self),
            disks: try row.json("disks_json", as: [DiskReport].self), policy: policy,
            lastPointID: try row.optionalString("last_point_id"), lastPointAt: lastPointAt,
            lastPointAgeSeconds: lastPointAt.map { now.timeIntervalSince($0) }, maximumPointAgeSeconds: maximumAge,
            overdue: FleetRules.isOverdue(policy: policy, maximumPointAgeSeconds: maximumAge, lastPointAt: lastPointAt,
                                          firstSeen: try row.date("first_seen"), now: now),
            lastJobState: try row.optionalString("last_job_state"), lastDrill: drill?.last, lastPassedDrillAt: drill?.lastPassedAt)
    }

    private func hostInfo(_ row: SQLRow, vms: [VMInfo]) throws -> HostInfo {
        let revoked = try row.optionalInt64("revoked_at") != nil
        let lastContact = try row.optionalDate("last_contact")
        let policyErrors = try row.json("policy_errors_json", as: [String].self)
        let (health, problems) = FleetRules.health(revoked: revoked, lastContact: lastContact, vms: vms,
                                                   policyErrors: policyErrors, now: now)
        return HostInfo(
            id: try row.string("id"), name: try row.string("name"), groups: try row.json("groups_json", as: [String].self),
            agentVersion: try row.string("agent_version"), libvirtVersion: try row.optionalString("libvirt_version"),
            enrolledAt: try row.date("enrolled_at"), lastContact: lastContact, revoked: revoked, health: health,
            problems: problems, vmCount: vms.count, policyErrors: policyErrors)
    }
}
