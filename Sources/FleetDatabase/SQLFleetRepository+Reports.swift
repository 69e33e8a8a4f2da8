import FleetAPI
import Foundation

/// Agent reports: each stored once per (host, report id), applied in the batch's order, the
/// whole batch in one transaction.
extension SQLFleetRepository {
    func record(_ batch: ReportBatch, hostID: String, now: Date) async throws -> ReportReceipt {
        guard batch.reports.count <= maximumReportsPerBatch else {
            throw FleetError.invalid("a batch carries at most \(maximumReportsPerBatch) reports, not \(batch.reports.count)")
        }
        if let problem = batch.reports.lazy.compactMap(\.problem).first { throw FleetError.invalid(problem) }
        return try await database.transaction { tx in
            // A no-op UPDATE: it finds the host and, on PostgreSQL, locks its row, so that two
            // batches of one host (a resend racing the original) apply one after the other.
            guard !(try await tx.query("UPDATE hosts SET id = id WHERE id = ? RETURNING id", hostID)).isEmpty else {
                throw FleetError.notFound("no host with id \(hostID)")
            }
            var receipt = ReportReceipt(accepted: [], duplicates: [])
            for report in batch.reports {
                // The receipt row is the dedupe: no row back means this host sent this id before.
                let fresh = try await tx.query(
                    """
                    INSERT INTO report_receipts (host_id, report_id, kind, received_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (host_id, report_id) DO NOTHING RETURNING report_id
                    """, hostID, report.id, report.kind.rawValue, now)
                guard !fresh.isEmpty else {
                    receipt.duplicates.append(report.id)
                    continue
                }
                let apply = ReportApplier(tx: tx, hostID: hostID, now: now)
                if let job = report.job { try await apply.job(job) }
                if let inventory = report.inventory { try await apply.inventory(inventory, at: report.createdAt) }
                if let usage = report.storeUsage { try await apply.storeUsage(usage, reportID: report.id, at: report.createdAt) }
                if let drill = report.drill { try await apply.drill(drill) }
                receipt.accepted.append(report.id)
            }
            return receipt
        }
    }
}

/// What one new report changes, inside the batch's transaction.
struct ReportApplier {
    let tx: any SQLExecutor
    let hostID: String
    let now: Date

    /// Upserts the job by (host, job id): a later report replaces the earlier, except that a
    /// `running` report never replaces an end state (a late resend must not undo a result).
    /// A backup's point is recorded with it; a drill's report names the point it tested.
    func job(_ job: JobReport) async throws {
        try await tx.execute(
            """
            INSERT INTO jobs (host_id, id, vm_uuid, vm_name, policy, trigger_kind, state, full_backup, queued_at,
                started_at, finished_at, bytes_read, bytes_stored, throttled_seconds, overran, error, point_id, kind)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (host_id, id) DO UPDATE SET vm_uuid = excluded.vm_uuid, vm_name = excluded.vm_name,
                policy = excluded.policy, trigger_kind = excluded.trigger_kind, state = excluded.state,
                full_backup = excluded.full_backup, queued_at = excluded.queued_at, started_at = excluded.started_at,
                finished_at = excluded.finished_at, bytes_read = excluded.bytes_read, bytes_stored = excluded.bytes_stored,
                throttled_seconds = excluded.throttled_seconds, overran = excluded.overran, error = excluded.error,
                point_id = excluded.point_id, kind = excluded.kind
            WHERE jobs.state = 'running' OR excluded.state <> 'running'
            """,
            hostID, job.jobID, job.vmUUID, job.vmName, job.policy, job.trigger, job.state, job.fullBackup, job.queuedAt,
            job.startedAt, job.finishedAt, job.bytesRead, job.bytesStored, job.throttledSeconds, job.overran, job.error,
            job.point?.id, job.kind ?? FleetRules.backupKind)
        // A drill names the point it tested; only a backup made one.
        guard let point = job.point, (job.kind ?? FleetRules.backupKind) == FleetRules.backupKind else { return }
        try await tx.execute(
            """
            INSERT INTO points (host_id, id, vm_uuid, vm_name, store, created_at, kind, logical_bytes, stored_bytes, job_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (host_id, id) DO NOTHING
            """,
            hostID, point.id, job.vmUUID, job.vmName, point.store, point.createdAt, point.kind, point.logicalBytes,
            point.storedBytes, job.jobID)
    }

    /// Replaces the host's VMs, keeping each VM's first sighting (the start of its overdue
    /// clock before it has a point). An inventory older than the one applied last is only
    /// acknowledged: a resend must not bring back a past state.
    func inventory(_ inventory: InventoryReport, at createdAt: Date) async throws {
        let host = try await tx.queryFirst("SELECT inventory_at FROM hosts WHERE id = ?", hostID)
        if let applied = try host?.optionalDate("inventory_at"), createdAt < applied { return }
        var firstSeen: [String: Date] = [:]
        for row in try await tx.query("SELECT uuid, first_seen FROM vms WHERE host_id = ?", hostID) {
            firstSeen[try row.string("uuid")] = try row.date("first_seen")
        }
        try await tx.execute("DELETE FROM vms WHERE host_id = ?", hostID)
        let seenNow = min(createdAt, now)
        for vm in inventory.vms {
            try await tx.execute(
                """
                INSERT INTO vms (host_id, uuid, name, state, tags_json, disks_json, policy, maximum_point_age_seconds, first_seen)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (host_id, uuid) DO NOTHING
                """,
                hostID, vm.uuid, vm.name, vm.state, try JSONColumn.encode(vm.tags), try JSONColumn.encode(vm.disks),
                vm.policy, vm.maximumPointAgeSeconds, firstSeen[vm.uuid] ?? seenNow)
        }
        try await tx.execute(
            """
            UPDATE hosts SET agent_version = ?, libvirt_version = ?, policy_errors_json = ?, policy_versions_json = ?,
                inventory_at = ? WHERE id = ?
            """,
            inventory.agentVersion, inventory.libvirtVersion, try JSONColumn.encode(inventory.policyErrors),
            try JSONColumn.encode(inventory.policyVersions), createdAt, hostID)
    }

    /// Upserts the VM's verdict by (host, drill id, VM): a drill recorded again replaces its
    /// verdict, as the store does.
    func drill(_ drill: DrillResultReport) async throws {
        try await tx.execute(
            """
            INSERT INTO drills (host_id, drill_id, vm_uuid, vm_name, job_id, point_id, point_created_at, started_at,
                finished_at, outcome, failure, failed_step, disk_mode, running_seconds, rto_seconds, checks_json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (host_id, drill_id, vm_uuid) DO UPDATE SET vm_name = excluded.vm_name, job_id = excluded.job_id,
                point_id = excluded.point_id, point_created_at = excluded.point_created_at, started_at = excluded.started_at,
                finished_at = excluded.finished_at, outcome = excluded.outcome, failure = excluded.failure,
                failed_step = excluded.failed_step, disk_mode = excluded.disk_mode, running_seconds = excluded.running_seconds,
                rto_seconds = excluded.rto_seconds, checks_json = excluded.checks_json
            """,
            hostID, drill.drillID, drill.vmUUID, drill.vmName, drill.jobID, drill.pointID, drill.pointCreatedAt,
            drill.startedAt, drill.finishedAt, drill.outcome, drill.failure, drill.failedStep, drill.diskMode,
            drill.runningSeconds, drill.rtoSeconds, try JSONColumn.encode(drill.checks))
    }

    func storeUsage(_ usage: StoreUsageReport, reportID: String, at createdAt: Date) async throws {
        try await tx.execute(
            """
            INSERT INTO store_usage (host_id, report_id, store, at, stored_bytes, logical_bytes, points)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            hostID, reportID, usage.store, createdAt, usage.storedBytes, usage.logicalBytes, usage.points)
    }
}
