import Foundation
import StorageAdapter

/// The object-lock side of an immutable point's write session (see `Store+ObjectLock`): the
/// dates its objects are written with, the packs of other sessions its disk indexes name,
/// and, at commit, the retention requests that make those packs outlive the point.
///
/// Thread-safe: disk indexes of several disks may be noted from several threads.
final class SessionRetention: @unchecked Sendable {
    let adapter: any RetainingStorageAdapter
    /// The point's own objects (disk indexes, point objects, manifest) are retained until then.
    let pointUntil: Date
    /// Packs, and the fragment naming them, are retained until then (`RetentionSlack`).
    let packUntil: Date
    private let lock = NSLock()
    // Guarded by `lock`.
    private var referenced: Set<String> = []
    private var written: Set<String> = []
    private var requests = 0
    private var extensionFailure: Error?

    /// Checks that the store can retain objects and that the date lies ahead.
    init(store: Store, pointUntil: Date, slack: RetentionSlack, now: Date = Date()) throws {
        guard let adapter = store.retainingAdapter else { throw StoreError.noObjectLock(store.adapter.location) }
        guard pointUntil > now else {
            throw StoreError.invalidRetention("cannot make a point immutable until \(pointUntil.formatted(.iso8601)): that date has passed")
        }
        self.adapter = adapter
        self.pointUntil = Self.wholeSecond(pointUntil)
        self.packUntil = Self.wholeSecond(slack.packUntil(pointUntil: pointUntil, now: now))
    }

    /// S3 keeps retention dates to the second: rounding up makes the manifest's date the one
    /// storage holds, and keeps the catalog's dates lower bounds.
    private static func wholeSecond(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.up))
    }

    /// Retention requests made so far (`extendRetention` calls).
    var requestCount: Int { lock.withLock { requests } }

    /// Notes a pack this session wrote with `packUntil` (so it needs no extension).
    func wrote(pack: String, store: Store) throws {
        lock.withLock { _ = written.insert(pack) }
        try store.catalog.recordRetention(packUntil, packs: [pack])
    }

    /// Notes the packs holding a disk index's chunks: every one this session did not write
    /// is extended at commit. Looks each distinct chunk up in the catalog (the same lookups
    /// deduplication made while the disk was read).
    func reference(_ index: DiskIndex, store: Store) throws {
        let packs = try store.catalog.packs(holding: Set(index.chunks).subtracting([.zero]))
        lock.withLock { referenced.formUnion(packs) }
    }

    /// Extends every referenced pack that this session did not write, that is not `condemned`
    /// (the session stored its own copies of those chunks) and that this host does not know
    /// to be retained past the point, to `packUntil`, with as many requests in flight as the
    /// adapter prefers. Returns how many requests it made; throws the first failure.
    @discardableResult
    func extendReferencedPacks(store: Store, condemned: Set<String>) throws -> Int {
        let candidates = lock.withLock { referenced.subtracting(written).subtracting(condemned) }
        let known = try store.catalog.knownRetention(of: candidates)
        let stale = candidates.filter { (known[$0] ?? .distantPast) < pointUntil }.sorted()
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = max(1, adapter.preferredConcurrency)
        for pack in stale {
            queue.addOperation { [self] in
                guard lock.withLock({ extensionFailure == nil }) else { return }
                do {
                    let key = StoreFormat.packKey(pack)
                    try store.io(key) { try adapter.extendRetention(key, until: packUntil) }
                    lock.withLock { requests += 1 }
                    store.retentionCounter.add()
                } catch {
                    lock.withLock { if extensionFailure == nil { extensionFailure = error } }
                }
            }
        }
        queue.waitUntilAllOperationsAreFinished()
        if let failure = lock.withLock({ extensionFailure }) { throw failure }
        try store.catalog.recordRetention(packUntil, packs: stale)
        return stale.count
    }
}
