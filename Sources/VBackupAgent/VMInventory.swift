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

    init(safetyInterval: TimeInterval = 300) {
        self.safetyInterval = safetyInterval
    }

    var all: [VMFacts] { lock.withLock { entries.values.sorted { $0.name < $1.name } } }

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
        for domain in try connection.listAllDomains() {
            fresh[domain.uuid] = VMFacts(name: domain.name, uuid: domain.uuid, tags: (try? domain.vbackupTags()) ?? [], host: host)
        }
        return lock.withLock {
            let added = fresh.keys.filter { entries[$0] == nil }.compactMap { fresh[$0]?.name }
            entries = fresh
            refreshedAt = now
            return added.sorted()
        }
    }
}
