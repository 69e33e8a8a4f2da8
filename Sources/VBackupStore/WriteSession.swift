import Foundation
import VBackupModel

/// One backup's writes: chunks into packs, then disk indexes, then the manifest at commit.
///
/// Thread-safe. Several threads may `add` at once: the lock covers only bookkeeping and the
/// append into the open pack; hashing and compressing happen before (`ChunkCodec.encode`).
/// A full pack is sealed on the adding thread and written by a background thread, so hashing
/// goes on while the pack's `put` (and its fsync) waits on the disk or network; at most
/// `maxUploads` packs are in flight, plus one sealed pack per adding thread waiting its turn,
/// which bounds memory.
///
/// A session holds a lease under `sessions/` from its start until it commits or aborts, and
/// never reuses a chunk from a pack that a garbage collector has condemned (see
/// `GarbageCollector` for the protocol).
///
/// A session with a retention date writes an immutable point: every object it writes is put
/// under object lock, and the packs it deduplicated against are extended at commit, before
/// the manifest (`SessionRetention`, `Store+ObjectLock`).
public final class WriteSession: @unchecked Sendable {
    private let store: Store
    private let lease: HeldLease
    /// Packs condemned by GC when the session started: their chunks count as absent.
    private let condemned: Set<String>
    /// Object lock for an immutable point; nil for an ordinary one.
    private let retention: SessionRetention?
    private let condition = NSCondition()
    /// Held by `checkpoint` for its whole run, so two never write the same chunks twice.
    private let checkpointing = NSLock()
    // All below guarded by `condition`.
    private var pack: PackWriter
    /// Ids this session has taken (open pack, uploading or stored): dedup within the session.
    private var taken: Set<ChunkID> = []
    /// Chunks in durably stored packs: the session's index fragment.
    private var stored: [ChunkLocation] = []
    private var uploading = 0
    /// Background uploads started and not yet finished (`startUpload`).
    private var running = 0
    private static let maxUploads = 2
    /// Why the session no longer accepts writes (committed or aborted), when it does not.
    private var closedReason: String?
    /// A pack upload that failed: the session can never commit.
    private var failure: String?

    /// Registers the session, then reads GC's condemned packs, then refreshes the catalog: in
    /// that order, so that whatever GC condemned before this session could see is known here,
    /// and whatever it condemns later waits for this session to end.
    init(store: Store, retention: SessionRetention? = nil) throws {
        self.store = store
        self.retention = retention
        lease = try store.registerSession()
        do {
            condemned = try store.condemnedPacks()
            try store.refresh()
        } catch {
            lease.release()
            throw error
        }
        self.pack = PackWriter(capacity: Self.packCapacity(store.config))
    }

    deinit { lease.release() }

    /// Retention requests (object-lock extensions of reused packs) the session made so far;
    /// the final count once it has committed.
    public var retentionRequests: Int { retention?.requestCount ?? 0 }

    /// The date until which this session's point is immutable; nil for an ordinary point.
    public var immutableUntil: Date? { retention?.pointUntil }

    /// Whether the chunk can be referenced by this session's point without storing it again:
    /// this session stored it, or the store has it in a pack that no GC has condemned.
    public func contains(_ id: ChunkID) throws -> Bool {
        if id.isZero { return true }
        if withLock({ taken.contains(id) }) { return true }
        return try isStored(id)
    }

    private func isStored(_ id: ChunkID) throws -> Bool {
        try store.catalog.locations(of: id).contains { !condemned.contains($0.pack) }
    }

    /// Stores the chunk unless the store already has it; returns the number of blob bytes
    /// written (0 for a duplicate).
    public func add(_ chunk: EncodedChunk) throws -> Int {
        let known = try isStored(chunk.id)
        var full: PackWriter?
        let written: Int = try withLock {
            try checkOpen()
            guard !known, taken.insert(chunk.id).inserted else { return 0 }
            pack.append(chunk)
            if pack.byteCount >= store.config.packSize { full = takePack(reserveNext: true) }
            return chunk.blob.count
        }
        // `take()` leaves the optional empty, so the pack's buffer has one owner and sealing
        // appends the trailer in place; `if var` would copy the whole pack first.
        if var full = full.take() { try startUpload(full.seal(with: store.cipher, avoiding: condemned)) }
        return written
    }

    /// Writes a disk's chunk index; returns its key and the SHA-256 to record in `PointDisk`.
    public func putDiskIndex(
        _ index: DiskIndex, vmUUID: String, pointID: String, target: String
    ) throws -> (key: String, digest: String) {
        try StoreFormat.validateName(target)
        let key = try pointKey(vmUUID: vmUUID, pointID: pointID, name: target + ".didx")
        let data = store.sealed(index.serialized(), kind: .diskIndex)
        try retention?.reference(index, store: store)
        try store.put(key, data: data, retainUntil: retention?.pointUntil)
        return (key, Digests.hex(of: data))
    }

    /// Writes an extra object of the point (e.g. `nvram`); returns its key.
    public func putPointObject(_ data: Data, vmUUID: String, pointID: String, name: String) throws -> String {
        guard name != StoreFormat.manifestName else { throw StoreError.invalidName(name) }
        let key = try pointKey(vmUUID: vmUUID, pointID: pointID, name: name)
        try store.putSealed(key, data, kind: .pointObject, retainUntil: retention?.pointUntil)
        return key
    }

    /// Seals and writes open packs, the index fragment, then (for an immutable point) extends
    /// the retention of the packs it reuses, then writes the manifest (the commit point).
    /// Returns the manifest as committed: `immutableUntil` is the session's date (nil for an
    /// ordinary session, whatever `manifest` said).
    @discardableResult
    public func commit(_ manifest: PointManifest) throws -> PointManifest {
        let manifestKey = try pointKey(vmUUID: manifest.vmUUID, pointID: manifest.id, name: StoreFormat.manifestName)
        var last: PackWriter = try withLock {
            try checkOpen()
            closedReason = "commit already started"
            while uploading > 0 { condition.wait() }
            if let failure { throw StoreError.sessionClosed(failure) }
            return takePack(reserveNext: false)
        }
        if !last.isEmpty { try upload(last.seal(with: store.cipher, avoiding: condemned)) }
        try writeFragment()
        try retention?.extendReferencedPacks(store: store, condemned: condemned)
        guard lease.isValid else {
            throw StoreError.sessionClosed("its lease \(lease.key) was not renewed in time; GC may have run meanwhile")
        }
        var manifest = manifest
        manifest.immutableUntil = retention?.pointUntil
        let json = try StoreJSON.encode(manifest)
        try store.putSealed(manifestKey, json, kind: .manifest, retainUntil: retention?.pointUntil)
        lease.release()
        try store.catalog.insertPoint(key: manifestKey, manifest: manifest, json: json)
        return manifest
    }

    /// Makes everything added so far durable and visible to later sessions on any host: waits
    /// for the packs in flight, seals and puts the open pack, then writes an index fragment for
    /// every chunk stored since the last checkpoint. The session stays open.
    ///
    /// A long copy checkpoints as it goes, so that after a kill the next session sees these
    /// chunks (its refresh ingests the fragment) and does not send them again. GC is unaffected:
    /// the packs name no committed point's chunks until this session commits, so a GC that runs
    /// meanwhile condemns them and waits for this session (its lease is live), and the re-mark
    /// after the commit keeps them. If the session dies instead, they are garbage until a later
    /// session references them again.
    ///
    /// Safe beside `add` on other threads; checkpoints run one at a time; not beside `commit`.
    public func checkpoint() throws {
        checkpointing.lock()
        defer { checkpointing.unlock() }
        var open: PackWriter = try withLock {
            try checkOpen()
            while uploading > 0 && failure == nil { condition.wait() }
            if let failure { throw StoreError.sessionClosed(failure) }
            return takePack(reserveNext: true)
        }
        if !open.isEmpty {
            try upload(open.seal(with: store.cipher, avoiding: condemned))
        }
        let written = withLock { stored }
        // Retained like the packs it names: an immutable copy's index must hold as long.
        try store.putFragment(written, retainUntil: retention?.packUntil)
        // Packs uploaded meanwhile appended after `written.count`: they stay for the next fragment.
        withLock { stored.removeFirst(written.count) }
    }

    /// Writes nothing more; what was written stays as garbage for GC.
    public func abort() {
        withLock {
            if closedReason == nil { closedReason = "aborted" }
            pack = PackWriter(capacity: 0)
        }
        lease.release()
    }

    // MARK: - Internals

    /// Writes a sealed pack in the background once fewer than `maxUploads` uploads run. A
    /// failure is recorded and surfaces at the next `add` or at `commit`.
    ///
    /// The wait counts uploads that have started, not packs taken (`uploading`): several adding
    /// threads that each took a full pack at once must not all wait for one another's packs,
    /// which none of them would ever start. Each adding thread holds at most one sealed pack
    /// while it waits.
    private func startUpload(_ sealed: SealedPack) throws {
        try withLock {
            // A network store keeps more uploads in flight than a disk (half its request slots).
            while running >= max(Self.maxUploads, store.adapter.preferredConcurrency / 2) && failure == nil { condition.wait() }
            if let failure { throw StoreError.sessionClosed(failure) }
            running += 1
        }
        Thread.detachNewThread { [self] in
            try? upload(sealed)
            withLock {
                running -= 1
                condition.broadcast()
            }
        }
    }

    /// Puts a sealed pack; on failure the session is broken, since chunks it already reported
    /// as stored are lost.
    private func upload(_ sealed: SealedPack) throws {
        do {
            try store.put(sealed.key, data: sealed.data, retainUntil: retention?.packUntil)
            try retention?.wrote(pack: sealed.id, store: store)
        } catch {
            withLock {
                failure = "writing pack \(sealed.key) failed: \(error)"
                uploading -= 1
                condition.broadcast()
            }
            throw error
        }
        withLock {
            stored.append(contentsOf: sealed.locations)
            uploading -= 1
            condition.broadcast()
        }
    }

    /// Writes the index fragment, then lets the catalog offer its chunks for dedup.
    private func writeFragment() throws {
        try store.putFragment(withLock { stored }, retainUntil: retention?.packUntil)
    }

    /// Hands over the open pack and starts a fresh one. Caller holds the lock.
    private func takePack(reserveNext: Bool) -> PackWriter {
        let full = pack
        pack = PackWriter(capacity: reserveNext ? Self.packCapacity(store.config) : 0)
        if !full.isEmpty { uploading += 1 }
        return full
    }

    /// Room for a full pack: it is sealed once it reaches `packSize`, so it holds at most one
    /// more blob (a raw chunk plus header) and the trailer (64 KiB covers ~1,300 blobs; packs
    /// of tiny blobs regrow once at seal time).
    private static func packCapacity(_ config: StoreConfig) -> Int {
        config.packSize + config.chunkSize + ChunkCodec.headerSize + (64 << 10)
    }

    private func checkOpen() throws {
        if let failure { throw StoreError.sessionClosed(failure) }
        if let closedReason { throw StoreError.sessionClosed(closedReason) }
    }

    private func pointKey(vmUUID: String, pointID: String, name: String) throws -> String {
        try StoreFormat.validateName(vmUUID)
        try StoreFormat.validateName(pointID)
        try StoreFormat.validateName(name)
        return StoreFormat.pointPrefix(vmUUID: vmUUID, pointID: pointID) + name
    }

    private func withLock<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }
}
