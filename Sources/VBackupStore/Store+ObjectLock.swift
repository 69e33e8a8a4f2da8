import Foundation
import StorageAdapter

/// Object lock (S3 Object Lock in compliance mode) as the store uses it for immutable points.
///
/// What is retained, and until when:
/// - An immutable point's own objects (disk indexes, point objects, manifest) until the
///   point's `immutableUntil`.
/// - The packs it wrote, and its index fragment, until `immutableUntil` plus a slack
///   (`RetentionSlack`); packs it deduplicated against are extended to that date at commit,
///   before the manifest, unless this host already knows them retained past `immutableUntil`.
///   The slack lets the next nightly points reuse those packs without a request each.
/// - A fragment names only packs of its own session, so a retained fragment never names a
///   pack whose retention ends before the fragment's: GC can always drop an unretained pack
///   from the index.
extension Store {
    /// The adapter as a retaining one, when its location can retain objects at all.
    var retainingAdapter: (any RetainingStorageAdapter)? {
        guard let retaining = adapter as? any RetainingStorageAdapter, retaining.canRetain else { return nil }
        return retaining
    }

    /// Whether points written here can be immutable (the storage has object lock).
    public var canKeepImmutablePoints: Bool { retainingAdapter != nil }

    /// Object-lock requests this instance made so far: retention extensions of reused packs
    /// (backups) and retention reads (GC). A caller's difference before and after an operation
    /// is that operation's cost, as with an adapter's `RequestTally`.
    public var retentionRequests: Int { retentionCounter.value }

    /// Deletes `key` unless the storage retains it; returns the retention that refused the
    /// delete (nil when the object is gone).
    func deleteUnlessRetained(_ key: String) throws -> RetainedObject? {
        do {
            try adapter.delete(key)
            return nil
        } catch StorageError.retained(_, let until) {
            return RetainedObject(key: key, until: until)
        } catch let error as StorageError {
            throw StoreError.storage(error)
        }
    }
}

/// A thread-safe count of object-lock requests.
final class RetentionCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    var value: Int { lock.withLock { count } }

    func add(_ n: Int = 1) { lock.withLock { count += n } }
}

/// An object the storage refused to delete, and until when it is retained (when known).
struct RetainedObject: Sendable {
    var key: String
    var until: Date?
}

/// How far past an immutable point's date the packs it needs are retained: `fraction` of the
/// retention period, at least `minimum`. With the default (half, at least a day), a nightly
/// 30-day immutable backup extends each pack it reuses about every 15 days instead of nightly.
struct RetentionSlack: Sendable {
    var minimum: TimeInterval = 86_400
    var fraction = 0.5

    /// Half the period, at least a day: `$VBACKUP_IMMUTABLE_SLACK_SECONDS` lowers the day for
    /// tests that must see packs expire (as `$VBACKUP_LEASE_SECONDS` shortens leases).
    static var standard: RetentionSlack {
        let minimum = ProcessInfo.processInfo.environment["VBACKUP_IMMUTABLE_SLACK_SECONDS"].flatMap(Double.init)
        return RetentionSlack(minimum: max(0, minimum ?? 86_400))
    }

    func packUntil(pointUntil: Date, now: Date) -> Date {
        pointUntil.addingTimeInterval(max(minimum, fraction * pointUntil.timeIntervalSince(now)))
    }
}

/// Which packs the storage still retains, asking storage about each pack at most once per
/// instance, and only when this host does not already know it retained (its catalog).
/// On a store without object lock it answers nil at once, with no request.
final class RetentionProbe {
    private let store: Store
    private let retaining: (any RetainingStorageAdapter)?
    let now: Date
    private var answers: [String: Date?] = [:]
    /// Retention requests made (HEADs).
    private(set) var requests = 0

    init(store: Store, now: Date = Date()) {
        self.store = store
        self.retaining = store.retainingAdapter
        self.now = now
    }

    /// The date until which `pack` is retained, if it still is.
    func retainedUntil(pack: String) throws -> Date? {
        guard let retaining else { return nil }
        if let answer = answers[pack] { return answer }
        var answer = try store.catalog.knownRetention(of: [pack])[pack].flatMap { $0 > now ? $0 : nil }
        if answer == nil {
            let key = StoreFormat.packKey(pack)
            requests += 1
            store.retentionCounter.add()
            if let until = try store.io(key, { try retaining.retention(of: key) }) {
                try store.catalog.recordRetention(until, packs: [pack])
                answer = until > now ? until : nil
            }
        }
        answers[pack] = answer
        return answer
    }

    /// The date until which the object at `key` is retained, if it still is (one request on a
    /// store with object lock).
    func retainedUntil(object key: String) throws -> Date? {
        guard let retaining else { return nil }
        requests += 1
        store.retentionCounter.add()
        return try store.io(key) { try retaining.retention(of: key) }.flatMap { $0 > now ? $0 : nil }
    }

    /// Splits `packs` into those storage would let go and those it retains (with dates).
    func partition(_ packs: some Collection<String>) throws -> (free: Set<String>, retained: [String: Date]) {
        var free: Set<String> = [], retained: [String: Date] = [:]
        for pack in packs {
            if let until = try retainedUntil(pack: pack) { retained[pack] = until } else { free.insert(pack) }
        }
        return (free, retained)
    }
}
