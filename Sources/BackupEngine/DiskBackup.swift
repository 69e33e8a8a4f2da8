import Foundation
import NBDClient
import VBackupModel
import VBackupStore

extension NBDConnection: BlockSource {}

/// Backs up one disk from an NBD export (libvirt's pull-mode export or qemu-nbd) into a store
/// write session and returns the disk's record for the point.
struct DiskBackup {
    var plan: DiskPlan
    var store: Store
    var session: WriteSession
    var vmUUID: String
    var pointID: String
    /// The checkpoint the next incremental of this disk continues from (nil: none).
    var nextCheckpoint: String?
    var workers: Int
    var progress: ProgressSink
    var isCancelled: @Sendable () -> Bool
    var gate: (any ReadGate)?

    /// The bitmap context name the export offers for an incremental.
    var dirtyContext: String?

    func run(socketPath: String) throws -> PointDisk {
        var contexts = [NBDContext.baseAllocation]
        if let dirtyContext { contexts.append(dirtyContext) }
        let nbd = try NBDConnection(unixSocket: socketPath, exportName: plan.disk.target, metaContexts: contexts)
        defer { nbd.close() }
        let size = nbd.size
        let data = try Self.extents(nbd, NBDContext.baseAllocation, size) { $0 & AllocationFlags.zero == 0 }
        var dirty: ExtentSet?
        var baseIndex: DiskIndex?
        if let dirtyContext, let base = plan.base {
            guard nbd.supportsContext(dirtyContext) else {
                throw EngineError.backupFailed(vm: plan.disk.target, reason: "export does not offer \(dirtyContext)")
            }
            dirty = try Self.extents(nbd, dirtyContext, size) { $0 & DirtyBitmapFlags.dirty != 0 }
            baseIndex = try store.readDiskIndex(base)
        }
        let planner = ChunkPlanner(diskSize: size, chunkSize: store.config.chunkSize, allocatedData: data, dirty: dirty, base: baseIndex)
        progress.diskStarted(plan.disk.target, total: size)
        let pipeline = ChunkPipeline(planner: planner, sink: SessionSink(store: store, session: session),
                                     workers: workers, progress: { progress.advanced($0) }, isCancelled: isCancelled,
                                     gate: gate)
        // A second connection for a second reader, when the export allows several.
        let extra = try? NBDConnection(unixSocket: socketPath, exportName: plan.disk.target)
        defer { extra?.close() }
        let (chunks, stats) = try pipeline.run(sources: [nbd] + (extra.map { [$0] } ?? []))
        progress.diskFinished(plan.disk.target)
        let index = DiskIndex(virtualSize: size, chunkSize: store.config.chunkSize, chunks: chunks)
        let (key, digest) = try session.putDiskIndex(index, vmUUID: vmUUID, pointID: pointID, target: plan.disk.target)
        return PointDisk(
            target: plan.disk.target, sourcePath: plan.disk.sourcePath, format: plan.image.format,
            virtualSize: size, chunkSize: store.config.chunkSize,
            mode: plan.isIncremental ? .incremental : .full, fullReason: plan.fullReason,
            checkpoint: nextCheckpoint, basePoint: plan.basePointID, indexKey: key, indexDigest: digest,
            bytesRead: stats.bytesRead, bytesStored: stats.bytesStored, dataBytes: stats.dataBytes,
            chunksNew: stats.chunksNew, chunksReused: stats.chunksReused,
            stageSeconds: StageSeconds(read: stats.readSeconds, encode: stats.encodeSeconds, store: stats.storeSeconds))
    }

    /// The extents of one context whose flags satisfy `select`, over the whole export.
    static func extents(_ nbd: NBDConnection, _ context: String, _ size: UInt64, select: (UInt32) -> Bool) throws -> ExtentSet {
        let all = try nbd.blockStatus(context: context, offset: 0, length: size)
        return ExtentSet(all.filter { select($0.flags) }.map { Extent(offset: $0.offset, length: $0.length) })
    }
}

/// The pipeline's view of a store write session.
final class SessionSink: ChunkSink, @unchecked Sendable {
    let store: Store
    let session: WriteSession

    init(store: Store, session: WriteSession) {
        self.store = store
        self.session = session
    }

    var codec: ChunkCodec { store.chunkCodec }
    func add(_ chunk: EncodedChunk) throws -> Int { try session.add(chunk) }
    func baseChunk(_ id: ChunkID) throws -> Data { try store.readChunk(id) }
    func canReference(_ id: ChunkID) throws -> Bool { try session.contains(id) }
}
