import Foundation
import GRDB
import VBackupPolicy

extension Agent {
    func connectLibvirt() {
        libvirt.ensure(uri: config.connectURI, inventory: inventory, wake: { [weak self] in self?.poke() }, logger: logger)
        setConnection(libvirt.connection)
    }

    func policiesReloaded() {
        setPolicies(keeper.current.set)
        logger.info("policies loaded", metadata: ["policies": "\(keeper.current.infos.map(\.name))",
                                                  "generation": "\(keeper.generation)"])
        for error in keeper.current.errors { logger.error("\(error)") }
    }

    /// One pass of the loop; `schedule: false` (while stopping) only refreshes the status.
    func tick(schedule: Bool = true) throws {
        let now = config.clock.now
        if keeper.reloadIfChanged(force: takeReloadRequest()) { policiesReloaded() }
        connectLibvirt()
        if let connection = libvirt.connection {
            let added = try inventory.refreshIfNeeded(connection: connection, host: libvirt.host)
            if !added.isEmpty { logger.info("VMs discovered", metadata: ["vms": "\(added)"]) }
        }
        let set = policies
        reportInventory(set: set, now: now)
        let names = Dictionary(inventory.all.map { ($0.uuid, $0.name) }, uniquingKeysWith: { a, _ in a })
        throttle.tick(limits: set.hostLimits(at: now, host: libvirt.host), connection: libvirt.connection, vmNames: names)
        let jobBandwidth: (String) -> UInt64? = { set.policy(named: $0)?.jobBandwidth(at: now) }
        if schedule {
            try takeRequests(set: set, now: now)
            try queueDue(set: set, now: now)
            try jobs.dispatch(now: now, slots: throttle.maxConcurrentJobs, paused: throttle.pausesNewJobs, jobBandwidth: jobBandwidth)
        }
        jobs.supervise(now: now, jobBandwidth: jobBandwidth)
        publish(try makeStatus(set: set, now: now))
    }

    /// Queues each due firing, unless a job of its kind for that VM is already queued or
    /// running: the firing is then recorded as handled (that job covers it) instead of stacking
    /// up. A backup and a drill of one VM may both wait; the job manager never runs them together.
    private func queueDue(set: PolicySet, now: Date) throws {
        let scheduler = Scheduler(policies: set, agentStartedAt: startedAt)
        let due = try scheduler.due(vms: inventory.all, now: now, lastFiring: journal.lastFiring)
        guard !due.isEmpty else { return }
        var busy = Set(try journal.jobs(in: [.queued, .running]).map { BusyKey(vmUUID: $0.vmUUID, kind: $0.kind) })
        for firing in due {
            let key = BusyKey(vmUUID: firing.vm.uuid, kind: firing.kind)
            if busy.contains(key) {
                try journal.markFired(policy: firing.policy, scheduleIndex: firing.scheduleIndex, vmUUID: firing.vm.uuid, at: firing.firedAt)
                logger.notice("firing skipped: a \(firing.kind.rawValue) job for this VM is already queued or running",
                              metadata: ["vm": "\(firing.vm.name)", "policy": "\(firing.policy)"])
                continue
            }
            let job = JobRecord(vmUUID: firing.vm.uuid, vmName: firing.vm.name, policy: firing.policy,
                                scheduleIndex: firing.scheduleIndex, fullBackup: firing.fullBackup, trigger: firing.trigger,
                                priority: firing.priority, firedAt: firing.firedAt, windowEnd: firing.windowEnd, queuedAt: now,
                                kind: firing.kind)
            try journal.fire(job)
            busy.insert(key)
            logger.info("job queued", metadata: ["vm": "\(job.vmName)", "policy": "\(job.policy)", "kind": "\(job.kind.rawValue)",
                                                 "trigger": "\(job.trigger.rawValue)"])
        }
    }

    private struct BusyKey: Hashable {
        var vmUUID: String
        var kind: JobRecord.Kind
    }

    /// Turns `vbackup agent run` requests into queued jobs.
    private func takeRequests(set: PolicySet, now: Date) throws {
        let vms = inventory.all
        try journal.takeRequests { request, db in
            let policy = request.policy.flatMap(set.policy(named:))
            if request.policy != nil && policy == nil {
                logger.error("run request names an unknown policy", metadata: ["policy": "\(request.policy ?? "")"])
                return
            }
            let chosen: [VMFacts]
            if request.vms.isEmpty {
                chosen = vms.filter { vm in policy.map { $0.selects(vm) } ?? false }
            } else {
                chosen = vms.filter { vm in request.vms.contains { $0 == vm.name || $0.lowercased() == vm.uuid.lowercased() } }
            }
            for vm in chosen {
                let owner = policy ?? set.policy(for: vm)
                let job = JobRecord(vmUUID: vm.uuid, vmName: vm.name, policy: owner?.name ?? "-", scheduleIndex: nil,
                                    fullBackup: request.full, trigger: .manual, priority: owner?.priority ?? 50,
                                    firedAt: now, windowEnd: nil, queuedAt: now)
                try job.insert(db)
            }
            logger.info("run request queued jobs", metadata: ["vms": "\(chosen.map(\.name))"])
        }
    }
}
