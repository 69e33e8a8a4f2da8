import BackupEngine
import FleetAPI
import Foundation
import LibvirtClient
import VBackupModel
import VBackupStore

extension Agent {
    /// Runs one job on its thread and records how it ended.
    func execute(_ job: RunningJob) {
        if job.record.kind == .drill { return executeDrill(job) }
        if job.record.kind == .copy { return executeCopy(job) }
        let record = job.record
        let policy = policies.policy(named: record.policy)
        var ended: JobRecord
        var point: PointReport?
        do {
            guard let connection = currentConnection else { throw AgentError.notRunning("not connected to libvirt") }
            let execution = JobExecution(connection: connection, openStore: stores.store, policy: policy,
                                         workers: config.workersPerJob)
            let outcome = try execution.run(job)
            ended = job.update {
                $0.state = .succeeded
                $0.pointID = outcome.point.id
                $0.bytesRead = Int64(outcome.point.disks.reduce(0) { $0 + $1.bytesRead })
                $0.bytesStored = Int64(outcome.point.disks.reduce(0) { $0 + $1.bytesStored })
                $0.error = outcome.pruneError.map { "backed up, but retention failed: \($0)" }
            }
            point = pointReport(outcome.point, policy: policy)
            if !outcome.pruned.isEmpty { logger.info("retention removed points", metadata: ["vm": "\(record.vmName)", "points": "\(outcome.pruned)"]) }
        } catch {
            ended = self.ended(job, by: error)
        }
        let throttled = jobs.secondsThrottled(job)
        ended = finish(job, point: point) {
            $0.throttledSeconds = throttled
            if let end = $0.windowEnd, let finished = $0.finishedAt, finished > end { $0.overran = true }
        }
        if ended.state == .succeeded { reportStoreUsage(policy: policy) }
        for remark in job.remarks { logger.notice("\(remark)", metadata: ["job": "\(ended.id)", "vm": "\(ended.vmName)"]) }
        logger.log(level: ended.state == .succeeded ? .info : .error, "job \(ended.state.rawValue)",
                   metadata: ["job": "\(ended.id)", "vm": "\(ended.vmName)", "policy": "\(ended.policy)",
                              "point": "\(ended.pointID ?? "-")", "error": "\(ended.error ?? "-")"])
    }

    /// Queues a fresh job for an interrupted one, while its window is open (a manual job has
    /// none). The new job reads what changed since the last committed point, so little is redone.
    func requeue(_ job: JobRecord, now: Date) {
        guard job.windowEnd.map({ now < $0 }) ?? true else { return }
        let retry = JobRecord(vmUUID: job.vmUUID, vmName: job.vmName, policy: job.policy, scheduleIndex: job.scheduleIndex,
                              fullBackup: job.fullBackup, trigger: .retry, priority: job.priority, firedAt: job.firedAt,
                              windowEnd: job.windowEnd, queuedAt: now, kind: job.kind)
        do { try journal.insert(retry) } catch { logger.error("cannot re-queue a job", metadata: ["error": "\(error)"]) }
    }

    /// Settles what the previous agent left: jobs still `running` in the journal (it died), the
    /// libvirt backup jobs and qemu-nbd exports of its dead process.
    func recoverAfterRestart() throws {
        let now = config.clock.now
        for var job in try journal.jobs(in: [.running]) where job.agentPID != getpid() {
            var made: PointReport?
            if job.kind == .backup, let point = committedPoint(of: job) {
                made = pointReport(point, policy: policies.policy(named: job.policy))
                job.state = .succeeded
                job.pointID = point.id
                job.bytesRead = Int64(point.disks.reduce(0) { $0 + $1.bytesRead })
                job.bytesStored = Int64(point.disks.reduce(0) { $0 + $1.bytesStored })
                job.error = "recovered after an agent restart: the point was committed before the agent died"
            } else {
                job.state = .interrupted
                job.error = "the agent (pid \(job.agentPID.map(String.init) ?? "?")) died while the job ran"
                requeue(job, now: now)
            }
            job.finishedAt = job.finishedAt ?? now
            try journal.update(job, point: made)
            logger.warning("settled a job left running by a previous agent", metadata: ["job": "\(job.id)", "vm": "\(job.vmName)", "state": "\(job.state.rawValue)"])
        }
        if let connection = libvirt.connection {
            for line in Leftovers.clean(connection: connection) { logger.warning("\(line)") }
        }
    }

    /// The point a crashed job committed, if it got that far: a point of its VM created after
    /// the job started.
    private func committedPoint(of job: JobRecord) -> PointManifest? {
        guard let started = job.startedAt else { return nil }
        let policy = policies.policy(named: job.policy)
        guard let store = try? stores.store(policy?.store) else { return nil }
        return try? store.listPoints(vm: job.vmUUID).last { $0.createdAt >= started.addingTimeInterval(-1) }
    }
}
