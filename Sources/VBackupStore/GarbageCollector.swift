import Foundation

/// What GC did (or, with `dryRun`, would do).
public struct GCReport: Codable, Sendable {
    public var dryRun: Bool
    public var points = 0
    public var liveChunks = 0
    public var packs = 0
    /// Packs and bytes removed (dry run: that would be condemned now).
    public var packsDeleted = 0
    public var bytesFreed = 0
    /// Objects under `points/` that belong to no point (leftovers of failed backups and prunes).
    public var objectsDeleted = 0
    /// Condemned packs that wait for backups that were running when they were condemned.
    public var packsPending = 0
    public var bytesPending = 0
    public var waitingFor: [String] = []
    /// Packs that hold live and dead chunks, and the dead bytes in them.
    public var partlyUsedPacks = 0
    public var unusedBytesInPartlyUsedPacks = 0
    /// Partly used packs whose live chunks were copied to new packs (dry run: would be), so
    /// the old packs could be condemned; and the live bytes copied.
    public var packsRepacked = 0
    public var bytesRepacked = 0
    public var deadSessionsCleared = 0
    /// Packs and point objects GC would delete but the storage's object lock still retains
    /// (immutable points): left for a later run. `retainedUntil` is the latest of their dates,
    /// when the storage told it.
    public var packsRetained = 0
    public var bytesRetained = 0
    public var objectsRetained = 0
    public var retainedUntil: Date?
    public var seconds = 0.0
}

/// Frees the packs and point objects no committed point needs, while backups on any number of
/// hosts write to the store at the same time.
///
/// ## The algorithm: mark, condemn, wait, re-mark, sweep
///
/// 1. **Lock.** One maintenance operation at a time (`locks/maintenance.json`, created
///    exclusively; a dead holder's lock is broken).
/// 2. **Mark.** Read every committed point's disk indexes: the live chunks.
/// 3. **Condemn.** Packs with no live chunk (including packs that no index fragment names:
///    leftovers of crashed sessions) and objects under `points/` of no committed point are
///    written to a record `gc/<id>.json`. *Then* GC lists the live write sessions and adds them
///    to the record as `waitFor`.
/// 4. **Wait.** The record's packs are deleted only once every `waitFor` session has ended
///    (committed, aborted, or dead: its process is gone, or its lease expired). A later GC run
///    finishes records it could not finish.
/// 5. **Re-mark and sweep.** Refresh (points and fragments committed meanwhile), add the new
///    points to the live set, drop every condemned pack that now holds a live chunk; rewrite
///    the index fragments without the remaining packs; delete them; delete the record.
///
/// ## Why no chunk a backup needs is ever removed
///
/// A write session registers its lease *before* it reads the condemned records, and reads them
/// *before* it decides which chunks exist; it never reuses a chunk from a condemned pack (it
/// stores its own copy, or reads the disk instead of reusing a base chunk). Take a session S
/// and a record R:
/// - If S read the records after R was written, S never references R's packs.
/// - Otherwise S registered before R was written, so it was live when GC listed sessions just
///   after writing R: S is in `waitFor`, and R's packs wait until S has ended. S commits its
///   manifest (after its fragment) before ending, so the re-mark in step 5 sees every chunk
///   S references, and those packs survive.
/// Pack names are content hashes, so a session could write the very pack GC is deleting (same
/// chunks, same order); a session therefore never writes a pack under a condemned name (it adds
/// filler to get another). A session whose lease lapsed (frozen longer than three quarters of its lease) refuses to
/// commit, so "ended" is safe to assume for it. Hosts must keep clocks within a few minutes
/// of each other (as kopia requires): only leases of other hosts are judged by time.
///
/// Partly used packs (a quarter or more dead) are **repacked**: their live chunks are copied
/// into new packs, and the old packs are condemned like dead ones. Their chunks then have two
/// locations until the sweep, which deletes a condemned pack only when each of its live chunks
/// has a copy in a pack that stays.
///
/// This is the grace-window idea of Proxmox Backup Server's GC and the two-phase deletion of
/// kopia, with the window bounded by the sessions that could have missed the condemnation
/// instead of by a fixed 24 hours: with no backup running, one GC run frees space at once.
///
/// ## Object lock
///
/// In a store with object lock, a pack or point object may be retained (immutable points).
/// GC never fails because of that: it neither condemns nor repacks a pack it knows retained
/// (`RetentionProbe`: this host's catalog, else one request), checks again before a sweep drops
/// a pack from the index, and leaves whatever the storage still refuses to delete for a later
/// run, reporting it (`packsRetained`, `objectsRetained`, `retainedUntil`).
struct GarbageCollector {
    /// A partly used pack is rewritten once this share of its bytes is dead (borg compacts at
    /// 10 %, restic tolerates 5 % of the whole repository): a quarter keeps rewrite traffic low
    /// while bounding waste.
    static let repackPercent = 25

    let store: Store
    let dryRun: Bool
    let progress: any MaintenanceProgress

    func run() throws -> GCReport {
        let started = Date()
        let lock = dryRun ? nil : try store.takeMaintenanceLock(purpose: "gc")
        defer { lock?.release() }
        try store.refresh()
        let problems = try store.unreadableObjects()
        guard problems.isEmpty else {
            throw StoreError.unreadableObjects(problems.sorted(by: { $0.key < $1.key }).map { "\($0.key) is unreadable: \($0.value)" })
        }
        var report = GCReport(dryRun: dryRun)
        let probe = RetentionProbe(store: store)
        var retained = RetainedSet()
        var live = LiveSet()
        try store.markPoints(into: &live, progress: progress)
        var sizes = try store.listPacks()
        let (records, unreadableRecords) = try store.condemnedRecords()
        var pending: Set<String> = [], pendingObjects: Set<String> = []
        for record in records {
            let finished = dryRun ? false : try sweep(record, live: &live, sizes: &sizes, report: &report, probe: probe, retained: &retained)
            if !finished {
                pending.formUnion(record.packs)
                pendingObjects.formUnion(record.objects)
            }
        }
        if !dryRun {
            // An unreadable record is replaced by the one below, which waits for today's sessions.
            for key in unreadableRecords { try store.io(key) { try store.adapter.delete(key) } }
        }

        var (dead, partly) = try deadPacks(live: live, sizes: sizes, excluding: pending)
        report.partlyUsedPacks = partly.count
        report.unusedBytesInPartlyUsedPacks = partly.reduce(0) { $0 + $1.deadBytes }
        var toRepack = partly.filter { $0.deadBytes * 100 >= (sizes[$0.pack] ?? 0) * Self.repackPercent }
        // Retained packs can be neither deleted nor usefully rewritten yet.
        let (free, kept) = try probe.partition(dead)
        dead = free
        for (pack, until) in kept { retained.add(pack: pack, until: until, size: sizes[pack]) }
        let repackable = try probe.partition(toRepack.map(\.pack)).free
        toRepack = toRepack.filter { repackable.contains($0.pack) }
        let orphans = try orphanObjects(live: live).subtracting(pendingObjects)
        if dryRun {
            let retainedOrphans = try orphans.compactMap { key in try probe.retainedUntil(object: key).map { RetainedObject(key: key, until: $0) } }
            for object in retainedOrphans { retained.add(object: object) }
            report.packsDeleted = dead.count + toRepack.count
            report.bytesFreed = dead.reduce(0) { $0 + (sizes[$1] ?? 0) } + toRepack.reduce(0) { $0 + $1.deadBytes }
            report.objectsDeleted = orphans.count - retainedOrphans.count
            report.packsRepacked = toRepack.count
            report.bytesRepacked = toRepack.reduce(0) { $0 + $1.live.reduce(0) { $0 + Int($1.length) } }
        } else if !dead.isEmpty || !orphans.isEmpty || !toRepack.isEmpty {
            // New packs first (orphans until their fragment exists), then the record condemning
            // the old ones, then the fragment: a crash at any step leaves only garbage that the
            // next run removes, never two indexed copies.
            let repacked = try Repacker.repack(toRepack, store: store, avoiding: pending.union(dead), progress: progress)
            dead.formUnion(repacked.replaced)
            report.packsRepacked = repacked.replaced.count
            report.bytesRepacked = repacked.bytesCopied
            var record = CondemnedRecord(packs: dead.sorted(), objects: orphans.sorted())
            try store.put(record)
            record.waitFor = try store.sessionLeases().alive.map(\.id)
            try store.put(record)
            try repacked.index(into: store)
            sizes.merge(repacked.newPacks) { $1 }
            _ = try sweep(record, live: &live, sizes: &sizes, report: &report, probe: probe, retained: &retained)
        }
        if !dryRun {
            // Damage marks of points that no longer exist (pruned) say nothing anymore.
            let existing = Set(live.manifests.map { $0.split(separator: "/")[2] }.map(String.init))
            for id in try store.damagedPointIDs() where !existing.contains(id) { try store.clearDamage(pointID: id) }
            let deadSessions = try store.sessionLeases().dead
            for key in deadSessions { try store.io(key) { try store.adapter.delete(key) } }
            report.deadSessionsCleared = deadSessions.count
        }
        retained.summarize(into: &report)
        report.points = live.manifests.count
        report.liveChunks = live.chunks.count
        report.packs = sizes.count
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// Packs none of whose chunks are live (and packs no fragment names), and the partly used
    /// ones' dead bytes.
    private func deadPacks(
        live: LiveSet, sizes: [String: Int], excluding pending: Set<String>
    ) throws -> (dead: Set<String>, partly: [PartlyUsedPack]) {
        progress.phase("scanning packs", total: sizes.count)
        var dead: Set<String> = [], indexed: Set<String> = []
        var partly: [PartlyUsedPack] = []
        var mixed: [String] = []
        try store.catalog.forEachPackIDs { pack, ids in
            indexed.insert(pack)
            guard sizes[pack] != nil, !pending.contains(pack) else { return }
            let liveCount = ids.reduce(0) { $0 + (live.chunks.contains($1) ? 1 : 0) }
            if liveCount == 0 { dead.insert(pack) } else if liveCount < ids.count { mixed.append(pack) }
            progress.advanced(by: 1)
        }
        for pack in mixed {
            let chunks = try store.catalog.chunks(inPack: pack)
            let liveChunks = chunks.filter { live.chunks.contains($0.id) }
            let deadBytes = chunks.reduce(0) { $0 + Int($1.length) } - liveChunks.reduce(0) { $0 + Int($1.length) }
            partly.append(PartlyUsedPack(pack: pack, live: liveChunks, deadBytes: deadBytes))
        }
        dead.formUnion(sizes.keys.filter { !indexed.contains($0) })
        return (dead.subtracting(pending), partly)
    }

    /// Objects under `points/` whose point has no manifest.
    private func orphanObjects(live: LiveSet) throws -> Set<String> {
        let listed = try store.io(StoreFormat.pointsPrefix) { try store.adapter.list(prefix: StoreFormat.pointsPrefix) }
        return Set(listed.map(\.key).filter { !live.pointPrefixes.contains(LiveSet.pointPrefix(of: $0)) })
    }

    /// The condemned packs whose every live chunk (one a session reused meanwhile) also has a
    /// copy in a stored pack that stays.
    private func deletable(_ condemned: [String], live: LiveSet, stored: [String: Int]) throws -> Set<String> {
        let candidates = Set(condemned)
        var packs: Set<String> = []
        for pack in condemned {
            let needed = try store.catalog.chunks(inPack: pack).filter { live.chunks.contains($0.id) }
            let elsewhere = try needed.allSatisfy { chunk in
                try store.catalog.locations(of: chunk.id).contains { !candidates.contains($0.pack) && stored[$0.pack] != nil }
            }
            if elsewhere { packs.insert(pack) }
        }
        return packs
    }

    /// Finishes a record if every session it waits for has ended; returns whether it did.
    /// Packs and objects the storage still retains stay (counted in `retained`); the record
    /// goes anyway, and a later run condemns them again.
    private func sweep(
        _ record: CondemnedRecord, live: inout LiveSet, sizes: inout [String: Int], report: inout GCReport,
        probe: RetentionProbe, retained: inout RetainedSet
    ) throws -> Bool {
        let sessions = try store.sessionLeases().alive
        var record = record
        if record.waitFor == nil {
            // GC stopped between writing the record and listing sessions. Sessions started since
            // have read the record; the others are among those alive now.
            record.waitFor = sessions.map(\.id)
            try store.put(record)
        }
        let waitFor = Set(record.waitFor ?? [])
        let running = sessions.filter { waitFor.contains($0.id) }
        guard running.isEmpty else {
            report.packsPending += record.packs.count
            report.bytesPending += record.packs.reduce(0) { $0 + (sizes[$1] ?? 0) }
            report.waitingFor.append(contentsOf: running.map(\.summary))
            return false
        }
        // Whatever those sessions committed is visible now.
        try store.refresh()
        try store.markPoints(into: &live, progress: progress)
        // A retained pack stays indexed: it is still there, and its fragment may be retained too.
        let (unretained, kept) = try probe.partition(try deletable(record.packs, live: live, stored: sizes))
        for (pack, until) in kept { retained.add(pack: pack, until: until, size: sizes[pack]) }
        let stillIndexed = try store.dropFromIndex(packs: unretained)
        for pack in stillIndexed { retained.add(pack: pack, until: nil, size: sizes[pack]) }
        let packs = unretained.subtracting(stillIndexed)
        let objects = record.objects.filter { !live.pointPrefixes.contains(LiveSet.pointPrefix(of: $0)) }
        progress.phase("deleting packs", total: packs.count)
        var deleted: [String] = []
        for pack in packs.sorted() {
            if let refused = try store.deleteUnlessRetained(StoreFormat.packKey(pack)) {
                retained.add(pack: pack, until: refused.until, size: sizes[pack])
            } else {
                deleted.append(pack)
                report.packsDeleted += 1
                report.bytesFreed += sizes.removeValue(forKey: pack) ?? 0
            }
            progress.advanced(by: 1)
        }
        try store.catalog.forgetRetention(packs: deleted)
        for key in objects {
            if let refused = try store.deleteUnlessRetained(key) { retained.add(object: refused) } else { report.objectsDeleted += 1 }
        }
        try store.io(record.key) { try store.adapter.delete(record.key) }
        return true
    }
}

/// What GC left because the storage retains it, each counted once however often it was met.
struct RetainedSet {
    private var packs: [String: Date?] = [:]
    private var sizes: [String: Int] = [:]
    private var objects: [String: Date?] = [:]

    mutating func add(pack: String, until: Date?, size: Int?) {
        packs[pack] = Self.later(packs[pack] ?? nil, until)
        sizes[pack] = size ?? sizes[pack] ?? 0
    }

    mutating func add(object: RetainedObject) {
        objects[object.key] = Self.later(objects[object.key] ?? nil, object.until)
    }

    func summarize(into report: inout GCReport) {
        report.packsRetained = packs.count
        report.bytesRetained = sizes.values.reduce(0, +)
        report.objectsRetained = objects.count
        report.retainedUntil = (Array(packs.values) + Array(objects.values)).compactMap { $0 }.max()
    }

    private static func later(_ a: Date?, _ b: Date?) -> Date? {
        guard let a, let b else { return a ?? b }
        return max(a, b)
    }
}

extension Store {
    /// Frees packs and point objects that no committed point needs; safe while backups run.
    public func collectGarbage(dryRun: Bool = false, progress: any MaintenanceProgress = NoProgress()) throws -> GCReport {
        try GarbageCollector(store: self, dryRun: dryRun, progress: progress).run()
    }
}
