import Foundation
import StorageAdapter
import VBackupModel

/// How a copy runs: the hooks through which a caller applies its own bandwidth limit, stops
/// on Ctrl-C and draws progress. The store depends on no rate limiter or terminal.
public struct CopyOptions: Sendable {
    /// Called with the bytes about to be written to the target, before they are; it may block
    /// (a bandwidth limit). Called from several threads at once.
    public var throttle: @Sendable (Int) -> Void = { _ in }
    /// Polled between chunks; once true the copy checkpoints what it sent and stops.
    public var isCancelled: @Sendable () -> Bool = { false }
    public var progress: @Sendable (CopyProgress) -> Void = { _ in }
    /// The target session is checkpointed after about this many bytes of sent chunks (and at
    /// the end of each disk): what a kill can lose. Bytes, not packs: pack sizes differ per store
    /// (32 MiB on S3).
    public var checkpointBytes = 128 << 20
    /// Threads reading the source; nil: the source adapter's `preferredConcurrency`, 2 to 16.
    public var threads: Int?
    /// Makes each copied point immutable for this long from its copy's start (S3 Object Lock
    /// on the target, as `backup --immutable-for`): an off-site copy nobody can delete, the
    /// store's own credentials included. Points the target already has stay as they are.
    public var immutableFor: TimeInterval?

    public init() {}
}

/// The requests an adapter has made since this was taken, when it counts them.
private struct RequestCount {
    let adapter: any RequestCountingStorageAdapter
    let start: RequestTally

    init?(_ adapter: any StorageAdapter) {
        guard let counting = adapter as? any RequestCountingStorageAdapter else { return nil }
        self.adapter = counting
        start = counting.requestTally
    }

    var sinceStart: RequestTally { adapter.requestTally.since(start) }
}

/// Why a copy cannot start, or a point cannot be copied.
public enum CopyError: Error, CustomStringConvertible, Equatable {
    case sameStore(String)
    case chunkSizeMismatch(source: Int, target: Int)
    case unknownPoints([String])
    case noPoints(vm: String)

    public var description: String {
        switch self {
        case .sameStore(let location): return "source and target are the same store (\(location))"
        case .chunkSizeMismatch(let source, let target):
            return "the target store's chunk size (\(target / 1024) KiB) differs from the source's (\(source / 1024) KiB); "
                + "copies need stores made with the same --chunk-size"
        case .unknownPoints(let ids): return "no such point in the source: \(ids.joined(separator: ", "))"
        case .noPoints(let vm): return "the source has no points of VM '\(vm)'"
        }
    }
}

/// Copies restore points from one open store to another (local or S3, plain or encrypted,
/// in any combination), sending only the chunks the target lacks.
///
/// - **Resume.** A point whose manifest the target already has is skipped. Within a point, the
///   target session is checkpointed every 128 MiB sent and after each disk
///   (`WriteSession.checkpoint`), so after a kill the next run finds those chunks in the target
///   and does not send them again; the point itself appears only at its manifest, written last
///   as in every backup.
/// - **Names.** Chunk ids are SHA-256 in plain stores and a per-store HMAC in encrypted ones.
///   Disk indexes are rewritten with the target's ids; the manifest and NVRAM are opened with
///   the source's keys and sealed with the target's. Drill records, protection and damage
///   marks are the source's own business and are not copied.
/// - **Damage.** A point verify marked damaged in the source is refused, never copied: its copy
///   would be damaged too. A source chunk that fails its check fails that point only.
/// - **Failures.** A point that fails is named in the report; a failure of a store itself
///   (storage, session, catalog) stops the run, leaving the rest for the next one.
public final class PointCopier: Sendable {
    let source: Store
    let target: Store
    let options: CopyOptions

    public init(from source: Store, to target: Store, options: CopyOptions = CopyOptions()) throws {
        guard source.config.id != target.config.id else { throw CopyError.sameStore(target.adapter.location) }
        guard source.config.chunkSize == target.config.chunkSize else {
            throw CopyError.chunkSizeMismatch(source: source.config.chunkSize, target: target.config.chunkSize)
        }
        if options.immutableFor != nil && !target.canKeepImmutablePoints {
            throw StoreError.noObjectLock(target.adapter.location)
        }
        self.source = source
        self.target = target
        self.options = options
    }

    /// The source's points of `vms` (names or UUIDs; every VM when empty), only `pointIDs` when
    /// any are given. Throws for a VM without points or an id that is not among them, before
    /// anything is copied.
    public static func select(in store: Store, vms: [String], pointIDs: [String]) throws -> [PointManifest] {
        var points: [PointManifest] = []
        if vms.isEmpty {
            points = try store.listPoints()
        } else {
            for vm in vms {
                let found = try store.listPoints(vm: vm)
                if found.isEmpty { throw CopyError.noPoints(vm: vm) }
                points += found.filter { point in !points.contains { $0.id == point.id } }
            }
        }
        guard !pointIDs.isEmpty else { return points }
        let unknown = pointIDs.filter { id in !points.contains { $0.id == id } }
        if !unknown.isEmpty { throw CopyError.unknownPoints(unknown) }
        return points.filter { pointIDs.contains($0.id) }
    }

    /// Copies `points`, per VM oldest first (so each copied point seeds the next one's
    /// translation). Throws only when the run cannot start; per-point outcomes are in the report.
    public func copy(_ points: [PointManifest]) throws -> CopyReport {
        let started = Date()
        let requests = (source: RequestCount(source.adapter), target: RequestCount(target.adapter))
        let tally = CopyTally()
        var report = CopyReport(from: source.adapter.location, to: target.adapter.location)
        let damaged = try source.damagedPointIDs()
        let ordered = points.sorted { ($0.vmUUID, $0.createdAt, $0.id) < ($1.vmUUID, $1.createdAt, $1.id) }
        var translation: (vm: String, table: ChunkTranslation)?
        for (number, point) in ordered.enumerated() {
            if options.isCancelled() {
                report.interrupted = true
                break
            }
            options.progress(.pointStarted(id: point.id, vm: point.vmName, number: number + 1, count: ordered.count))
            let entry = CopiedPoint(id: point.id, vm: point.vmName)
            var outcome = CopyProgress.Outcome.copied
            if try targetHas(point) {
                report.alreadyThere.append(entry)
                outcome = .alreadyThere
            } else if damaged.contains(point.id) {
                report.refused.append(UncopiedPoint(
                    id: point.id, vm: point.vmName,
                    reason: "verify marked it damaged in the source; a copy would be damaged too"))
                outcome = .refused
            } else {
                if translation?.vm != point.vmUUID { translation = makeTranslation(vmUUID: point.vmUUID) }
                do {
                    var copied = entry
                    copied.immutableUntil = try copyPoint(point, translation: translation?.table, tally: tally)
                    report.copied.append(copied)
                } catch is CopyInterrupted {
                    report.interrupted = true
                    break
                } catch {
                    report.failed.append(UncopiedPoint(id: point.id, vm: point.vmName, reason: "\(error)"))
                    options.progress(.pointFinished(id: point.id, outcome: .failed))
                    if Self.stopsTheRun(error) { break }
                    continue
                }
            }
            options.progress(.pointFinished(id: point.id, outcome: outcome))
        }
        tally.add(to: &report)
        report.seconds = Date().timeIntervalSince(started)
        report.sourceRequests = requests.source?.sinceStart
        report.targetRequests = requests.target?.sinceStart
        return report
    }

    /// One point: every disk's chunks, its index in target names, the NVRAM, then the
    /// manifest. On any failure the session is checkpointed (what was sent stays useful) and
    /// aborted. Returns the copy's immutability date (nil: an ordinary point).
    private func copyPoint(_ point: PointManifest, translation: ChunkTranslation?, tally: CopyTally) throws -> Date? {
        let session = try target.beginSession(retainUntil: options.immutableFor.map { Date().addingTimeInterval($0) })
        let checkpoints = Checkpoints(
            session: session, interval: options.checkpointBytes, tally: tally, progress: options.progress)
        do {
            var manifest = point
            let disks = DiskCopy(
                source: source, session: session, targetCodec: target.chunkCodec, translation: translation,
                tally: tally, checkpoints: checkpoints, options: options, threads: threads)
            for (position, disk) in point.disks.enumerated() {
                let index = try source.readDiskIndex(disk)
                guard index.chunkSize == target.config.chunkSize else {
                    throw CopyError.chunkSizeMismatch(source: index.chunkSize, target: target.config.chunkSize)
                }
                options.progress(.diskStarted(target: disk.target, chunks: index.chunks.count))
                let copied = try disks.run(index)
                try checkpoints.now()
                options.throttle(copied.chunks.count * 32)
                let written = try session.putDiskIndex(copied, vmUUID: point.vmUUID, pointID: point.id, target: disk.target)
                manifest.disks[position].indexKey = written.key
                manifest.disks[position].indexDigest = written.digest
            }
            if let key = point.nvramKey {
                manifest.nvramKey = try copyPointObject(key, of: point, into: session, tally: tally)
            }
            if options.isCancelled() { throw CopyInterrupted() }
            return try session.commit(manifest).immutableUntil
        } catch {
            try? checkpoints.now()
            session.abort()
            throw error
        }
    }

    /// Opens a point object (the NVRAM) with the source's keys and seals it with the target's.
    private func copyPointObject(_ key: String, of point: PointManifest, into session: WriteSession, tally: CopyTally) throws -> String {
        let data = try source.readPointObject(key: key)
        tally.bytesRead(data.count)
        options.throttle(data.count)
        let name = String(key.split(separator: "/").last ?? "")
        let written = try session.putPointObject(data, vmUUID: point.vmUUID, pointID: point.id, name: name)
        tally.bytesSent(data.count)
        return written
    }

    private func targetHas(_ point: PointManifest) throws -> Bool {
        let key = StoreFormat.manifestKey(vmUUID: point.vmUUID, pointID: point.id)
        return try target.io(key) { try target.adapter.stat(key) } != nil
    }

    /// A table only when the stores name chunks differently (either is encrypted).
    private func makeTranslation(vmUUID: String) -> (vm: String, table: ChunkTranslation)? {
        guard source.chunkCodec.isEncrypting || target.chunkCodec.isEncrypting else { return nil }
        let table = ChunkTranslation()
        table.seed(vmUUID: vmUUID, source: source, target: target)
        return (vmUUID, table)
    }

    private var threads: Int {
        options.threads ?? max(2, min(16, source.adapter.preferredConcurrency))
    }

    /// Whether an error is a store's own failure (stop) rather than one point's (go on).
    static func stopsTheRun(_ error: Error) -> Bool {
        switch error {
        case StoreError.corrupt, StoreError.chunkMissing, is CopyError: return false
        default: return true
        }
    }
}
