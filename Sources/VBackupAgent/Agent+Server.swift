import FleetAPI
import Foundation
import VBackupModel
import VBackupPolicy
import VBackupStore

/// What an enrolled agent tells its policy server, and how status shows the link. Every method
/// does nothing when the host is not enrolled.
extension Agent {
    /// Queues an inventory report when the reporter says one is due (tick thread).
    func reportInventory(set: PolicySet, now: Date) {
        guard let link else { return }
        var report = inventoryReport(set: set, link: link, now: now)
        guard link.inventory.isDue(report, now: now) else { return }
        report.libvirtVersion = try? libvirt.connection?.libvirtVersion.description
        report.vms = report.vms.map { withDiskSizes($0, policy: $0.policy.flatMap(set.policy(named:))) }
        do {
            try journal.enqueue([AgentReport(createdAt: Date(), inventory: report)])
        } catch {
            logger.error("cannot queue the inventory report", metadata: ["error": "\(error)"])
        }
    }

    /// The inventory without what costs a call per VM (disk sizes, the libvirt version): built
    /// every tick to tell whether anything changed.
    private func inventoryReport(set: PolicySet, link: ServerLink, now: Date) -> InventoryReport {
        let details = inventory.allDetails
        var ages: [String: TimeInterval?] = [:]
        for policy in set.policies { ages[policy.name] = link.maximumPointAge(of: policy, now: now) }
        let vms = inventory.all.map { vm -> VMReport in
            let policy = set.policy(for: vm)
            return VMReport(uuid: vm.uuid, name: vm.name, state: details[vm.uuid]?.state ?? "unknown", tags: vm.tags,
                            disks: (details[vm.uuid]?.disks ?? []).map { DiskReport(target: $0.target, source: $0.sourcePath, capacityBytes: nil) },
                            policy: policy?.name, maximumPointAgeSeconds: policy.flatMap { ages[$0.name] ?? nil })
        }
        let inForce = Set(keeper.current.infos.map(\.name))
        return InventoryReport(agentVersion: AgentVersion.current, libvirtVersion: nil, vms: vms,
                               policyErrors: policyErrors, policyVersions: link.sync.cacheState.versions.filter { inForce.contains($0.key) })
    }

    /// Disk sizes from the VM's latest point in its policy's store (a catalog lookup; the
    /// agent does not probe images for a report). A disk never backed up has no size.
    private func withDiskSizes(_ vm: VMReport, policy: Policy?) -> VMReport {
        guard let point = try? stores.store(policy?.store).latestPoint(vmUUID: vm.uuid) else { return vm }
        var vm = vm
        for index in vm.disks.indices {
            vm.disks[index].capacityBytes = point.disks.first { $0.target == vm.disks[index].target }.map { Int64($0.virtualSize) }
        }
        return vm
    }

    /// Every problem with the policies in force: the keeper's (files in the policy folder) and,
    /// on an enrolled host, the server's policies this agent refused.
    var policyErrors: [String] {
        keeper.current.errors + (link?.sync.refusals ?? [])
    }

    /// The point a job made, as its end report carries it.
    func pointReport(_ point: PointManifest, policy: Policy?) -> PointReport? {
        guard link != nil else { return nil }
        return PointReport(id: point.id, store: storeName(policy), createdAt: point.createdAt,
                           kind: point.disks.contains { $0.mode == .full } ? "full" : "incremental",
                           logicalBytes: Int64(point.logicalSize), storedBytes: Int64(point.bytesStored))
    }

    /// After a successful job: how much its store holds now (job thread).
    func reportStoreUsage(policy: Policy?) {
        guard link != nil else { return }
        do {
            let usage = try stores.store(policy?.store).usage()
            let report = StoreUsageReport(store: storeName(policy), storedBytes: Int64(usage.storedBytes),
                                          logicalBytes: Int64(usage.logicalBytes), points: usage.points)
            try journal.enqueue([AgentReport(createdAt: Date(), storeUsage: report)])
        } catch {
            logger.error("cannot report the store's usage", metadata: ["store": "\(storeName(policy))", "error": "\(error)"])
        }
    }

    /// A store as the policy names it; the agent's default store by its location.
    private func storeName(_ policy: Policy?) -> String {
        policy?.store ?? (try? stores.store(nil).adapter.location) ?? "default"
    }

    func serverStatus() -> AgentStatus.Server? {
        guard let link else { return nil }
        let sync = link.sync.status, delivery = link.delivery.status
        let outbox = try? journal.outboxSummary()
        return AgentStatus.Server(
            url: link.enrollment.server, hostName: link.enrollment.hostName, hostID: link.enrollment.hostID,
            policySource: "the policy server, cached in \(link.cacheDirectory.path) (the policy folder \(config.policiesDirectory.path) is not used)",
            lastPoll: sync.lastContact, lastError: sync.lastError, lastErrorAt: sync.lastErrorAt,
            bundleEtag: link.sync.cacheState.etag, refusedPolicies: link.sync.refusals,
            outboxLength: outbox?.count ?? 0, oldestQueuedReportAge: outbox?.oldest.map { Date().timeIntervalSince($0) },
            lastDelivery: delivery.lastDelivery, deliveryError: delivery.lastError)
    }
}
