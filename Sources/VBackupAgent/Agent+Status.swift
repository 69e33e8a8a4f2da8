import Foundation
import VBackupPolicy

extension Agent {
    func makeStatus(set: PolicySet, now: Date) throws -> AgentStatus {
        let loaded = keeper.current
        let agent = AgentStatus.Agent(
            pid: getpid(), host: libvirt.host, startedAt: startedAt, updatedAt: now,
            stateDirectory: config.stateDirectory.path, policiesDirectory: keeper.directory.path,
            policies: loaded.infos, policyErrors: policyErrors, policyGeneration: keeper.generation,
            policyOverlaps: Self.overlaps(set, vms: inventory.all), cpuControl: throttle.cpuDescription,
            vms: inventory.all.count, libvirt: libvirt.description)
        let snapshot = throttle.governor.snapshot()
        let running = jobs.runningJobs.map { job -> AgentStatus.Running in
            let record = job.record
            let progress = job.progress
            let share = snapshot.jobs.first { $0.name == record.id }
            return AgentStatus.Running(
                id: record.id, kind: record.kind.rawValue, vm: record.vmName, policy: record.policy, trigger: record.trigger.rawValue,
                full: record.fullBackup, startedAt: record.startedAt ?? now, windowEnd: record.windowEnd,
                overran: record.overran, willOverrun: Self.willOverrun(progress, windowEnd: record.windowEnd, now: now),
                disk: progress.disk, bytesDone: progress.bytesDone, bytesTotal: progress.bytesTotal,
                bytesRead: progress.bytesRead, rate: progress.rate, limit: share?.limit, share: share?.effectiveRate,
                secondsThrottled: share?.secondsWaited ?? 0)
        }
        let queued = try journal.jobs(in: [.queued]).map {
            AgentStatus.Queued(id: $0.id, kind: $0.kind.rawValue, vm: $0.vmName, policy: $0.policy, trigger: $0.trigger.rawValue,
                               priority: $0.priority, queuedAt: $0.queuedAt, windowEnd: $0.windowEnd)
        }
        let next = Scheduler(policies: set, agentStartedAt: startedAt).upcoming(vms: inventory.all, now: now, limit: 10)
        return AgentStatus(agent: agent, throttle: throttle.status, running: running, queued: queued,
                           recent: try journal.recent(limit: 20).map(AgentStatus.Finished.init), next: next,
                           server: serverStatus())
    }

    static func overlaps(_ set: PolicySet, vms: [VMFacts]) -> [String] {
        vms.compactMap { vm in
            let others = set.conflicts(for: vm)
            guard let winner = set.policy(for: vm), !others.isEmpty else { return nil }
            return "VM \(vm.name): policy \(winner.name) backs it up; \(others.map(\.name).joined(separator: ", ")) also select it"
        }
    }

    /// Whether the remaining logical bytes at the current pace end after the window. Logical
    /// progress (zero and unchanged ranges count) is the honest measure: an incremental skips
    /// most of the disk.
    static func willOverrun(_ progress: RunningJob.Progress, windowEnd: Date?, now: Date) -> Bool {
        guard let windowEnd, progress.bytesTotal > progress.bytesDone else { return false }
        guard now < windowEnd else { return true }
        let remaining = Double(progress.bytesTotal - progress.bytesDone)
        guard progress.rate > 0 else { return false }
        return now.addingTimeInterval(remaining / max(progress.rate, 1)) > windowEnd
    }
}
