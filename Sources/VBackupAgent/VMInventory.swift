import BackupEngine
import Foundation
import LibvirtClient
import VBackupPolicy

/// The VMs on this host as the agent last saw them: names, UUIDs and tags.
///
/// It is refreshed at start, whenever libvirt reports a lifecycle event (defined, started,
/// stopped, undefined; coalesced, so a storm of events costs one listing), and every few
/// minutes as a safety net against a lost event stream. It never polls in a tight loop.
final class VMInventory: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: VMFacts] = [:]
    private var stale = true
    private var refreshedAt = Date.distantPast
    private let safetyInterval: TimeInterval
    /// Run state and disks, read only for an agent that reports to a policy server.
    private let readsDetails: Bool
    private var details: [String: VMDetails] = [:]

    /// Names a VM must match to be this agent's; empty: all.
    private let only: [Glob]

    init(safetyInterval: TimeInterval = 300, readsDetails: Bool = false, only: [Glob] = []) {
        self.safetyInterval = safetyInterval
        self.readsDetails = readsDetails
        self.only = only
    }

    var all: [VMFacts] { lock.withLock { entries.values.sorted { $0.name < $1.name } } }

    /// By VM UUID; empty unless the inventory reads details.
    var allDetails: [String: VMDetails] { lock.withLock { details } }

    /// Called from libvirt's event thread: the next tick re-lists the domains.
    func markStale() { lock.withLock { stale = true } }

    /// Re-lists the domains when an event asked for it or the safety interval passed.
    /// Returns the names of VMs that appeared since the last listing, for the log.
    @discardableResult
    func refreshIfNeeded(connection: LibvirtConnection, host: String, now: Date = Date()) throws -> [String] {
        let due = lock.withLock { stale || now.timeIntervalSince(refreshedAt) >= safetyInterval }
        guard due else { return [] }
        lock.withLock { stale = false }
        var fresh: [String: VMFacts] = [:]
        var freshDetails: [String: VMDetails] = [:]
        for domain in try connection.listAllDomains() where only.isEmpty || only.contains(where: { $0.matches(domain.name) }) {
            fresh[domain.uuid] = VMFacts(name: domain.name, uuid: domain.uuid, tags: (try? domain.vbackupTags()) ?? [], host: host)
            if readsDetails { freshDetails[domain.uuid] = VMDetails(domain) }
        }
        return lock.withLock {
            let added = fresh.keys.filter { entries[$0] == nil }.compactMap { fresh[$0]?.name }
            entries = fresh
            details = freshDetails
            refreshedAt = now
            return added.sorted()
        }
    }
}

/// What the policy server hears about a VM beyond its name and tags.
struct VMDetails: Equatable, Sendable {
    /// running, paused, shut off, or other.
    var state: String
    var disks: [DomainDisk]

    init(state: String, disks: [DomainDisk]) {
        self.state = state
        self.disks = disks
    }

    init(_ domain: LibvirtDomain) {
        switch try? domain.runState() {
        case .running: state = "running"
        case .paused: state = "paused"
        case .shutoff: state = "shut off"
        case .other, nil: state = "other"
        }
        disks = DomainDisk.all(xml: (try? domain.xml()) ?? "")
    }
}
