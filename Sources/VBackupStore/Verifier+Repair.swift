import Foundation
import StorageAdapter

/// Repair after a check: nothing is deleted, bad objects are moved under `quarantine/` as
/// evidence, and the index is rewritten so no host deduplicates against a lost chunk again
/// (which is what lets the next backup store it anew and heal every point that needs it).
extension Verifier {
    static let quarantinePrefix = "quarantine/"

    func repair(_ findings: inout Findings) throws {
        let needsIndexWork = !findings.badPacks.isEmpty || !findings.missingPacks.isEmpty
            || !findings.unreadableFragments.isEmpty || !findings.unreadableManifests.isEmpty
        if needsIndexWork {
            let lock = try store.takeMaintenanceLock(purpose: "verify repair")
            defer { lock.release() }
            progress.phase("repairing", total: findings.badPacks.count + findings.unreadableFragments.count)
            try rescueGoodChunks(of: Set(findings.badPacks.keys))
            try store.dropFromIndex(packs: Set(findings.badPacks.keys).union(findings.missingPacks))
            for pack in findings.badPacks.keys.sorted() {
                try moveAside(StoreFormat.packKey(pack), in: &findings.report)
                progress.advanced(by: 1)
            }
            for key in findings.unreadableManifests.keys.sorted() { try moveAside(key, in: &findings.report) }
            if !findings.unreadableFragments.isEmpty {
                for key in findings.unreadableFragments.keys.sorted() {
                    try moveAside(key, in: &findings.report)
                    progress.advanced(by: 1)
                }
                try reindexUnnamedPacks()
            }
            try store.refresh()
        }
        for damage in findings.report.damaged { try store.markDamaged(damage) }
        for id in findings.report.healed { try store.clearDamage(pointID: id) }
    }

    /// Copies every blob of the bad packs that still checks out into new packs, indexed by a
    /// new fragment, so moving a pack aside loses only its bad chunks.
    private func rescueGoodChunks(of packs: Set<String>) throws {
        var copier = Repacker(store: store, avoiding: [])
        for pack in packs.sorted() {
            try copier.copy(try store.catalog.chunks(inPack: pack), from: pack, requireAll: false)
        }
        try copier.finish().index(into: store)
    }

    /// Index entries for packs that no fragment names (their fragment was unreadable), from
    /// the packs' own trailers.
    private func reindexUnnamedPacks() throws {
        try store.refresh()
        var named: Set<String> = []
        try store.catalog.forEachPackIDs { pack, _ in named.insert(pack) }
        var locations: [ChunkLocation] = []
        for pack in try store.listPacks().keys.sorted() where !named.contains(pack) {
            guard let entries = try? store.packEntries(pack) else { continue }
            locations += entries
        }
        try store.putFragment(locations)
    }

    /// Moves an object under `quarantine/` (copy, then delete), recording where it went.
    private func moveAside(_ key: String, in report: inout VerifyReport) throws {
        let target = Self.quarantinePrefix + key
        do {
            let data = try store.adapter.get(key)
            try store.io(target) { try store.adapter.put(target, data: data) }
            _ = try store.deleteUnlessRetained(key)  // object lock: the original stays until its date
        } catch StorageError.notFound {
            return
        } catch let error as StorageError {
            throw StoreError.storage(error)
        }
        if let index = report.badObjects.firstIndex(where: { $0.key == key }) {
            report.badObjects[index].movedTo = target
        }
    }
}

extension Store {
    /// Verifies points (see `Verifier`) and, with `options.repair`, marks, moves aside and
    /// re-indexes what it found.
    public func verify(_ options: VerifyOptions = VerifyOptions(), progress: any MaintenanceProgress = NoProgress()) throws -> VerifyReport {
        let verifier = Verifier(store: self, options: options, progress: progress)
        var findings = try verifier.check()
        if options.repair { try verifier.repair(&findings) }
        return findings.report
    }
}
