import Foundation
import LibvirtClient
import VBackupPolicy

/// The VMs on this host as the agent last saw them: names, UUIDs, tags and run state.
///
/// It is refreshed at start, whenever libvirt reports a lifecycle event (defined, started,
/// stopped, undefined; coalesced, so a storm of events costs one listing), and every few
/// minutes as a safety net against a lost event stream. It never polls in a tight loop.
final class VMInventory: @unchecked Sendable {
    struct Entry: Sendable, Equatable {
        var facts: VMFacts
        var isRunning: Bool
    }

    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var stale = true
    private var refreshedAt = Date.distantPast
    private let safetyInterval: TimeInterval

    init(safetyInterval: TimeInterval = 300) {
        self.safetyInterval = safetyInterval
    }

    var all: [Entry] { lock.withLock { entries.values.sorted { $0.facts.name < $1.facts.name } } }

    func entry(uuid: String) -> Entry? { lock.withLock { entries[uuid] } }

    /// Called from libvirt's event thread: the next tick re-lists the domains.
    func markStale() { lock.withLock { stale = true } }

    /// Re-lists the domains when an event asked for it or the safety interval passed.
    /// Returns the names of VMs that appeared since the last listing, for the log.
    @discardableResult
    func refreshIfNeeded(connection: LibvirtConnection, host: String, now: Date = Date()) throws -> [String] {
        let due = lock.withLock { stale || now.timeIntervalSince(refreshedAt) >= safetyInterval }
        guard due else { return [] }
        lock.withLock { stale = false }
        var fresh: [String: Entry] = [:]
        for domain in try connection.listAllDomains() {
            let tags = (try? domain.vbackupTags()) ?? []
            let running = (try? domain.runState()).map { $0 == .running || $0 == .paused } ?? false
            fresh[domain.uuid] = Entry(facts: VMFacts(name: domain.name, uuid: domain.uuid, tags: tags, host: host),
                                       isRunning: running)
        }
        return lock.withLock {
            let added = fresh.keys.filter { entries[$0] == nil }.compactMap { fresh[$0]?.facts.name }
            entries = fresh
            refreshedAt = now
            return added.sorted()
        }
    }
}
