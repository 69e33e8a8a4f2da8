import Foundation
import VBackupModel
import VBackupStore

/// `million`: a store of at least `--chunks` distinct small chunks over a few points, then the
/// oldest third of the points forgotten (manifests deleted, as prune does first), so GC has a
/// million-entry index to mark and real packs to free.
///
/// Point k covers chunk numbers [k·step, k·step + 2·step): half shared with the point before,
/// half new, like a VM whose data turns over. Forgetting the oldest points makes the chunks only
/// they named garbage. 4 KiB chunks in 64 KiB packs keep about 100 chunks per pack, as 256 KiB
/// chunks in the default 16 MiB packs do, at a fraction of the bytes.
enum MillionCommand {
    static func run(_ arguments: Arguments) throws {
        try arguments.only(["store", "cache", "chunks", "points", "chunk-kib", "pack-kib"])
        let total = try arguments.int("chunks", default: 1_000_000)
        let points = max(3, try arguments.int("points", default: 6))
        let store = try BenchStore.openOrCreate(
            arguments, chunkSize: try arguments.int("chunk-kib", default: 4) << 10,
            packSize: try arguments.int("pack-kib", default: 64) << 10, mustBeNew: true)
        let step = (total + points) / (points + 1)
        let vm = (name: "million", uuid: UUID().uuidString.lowercased())
        let started = monotonicSeconds()
        var previous: [ChunkID] = []
        var manifests: [PointManifest] = []
        var bytesStored = 0
        for k in 0..<points {
            let numbers = k == 0 ? Array(0..<(2 * step)) : Array(((k + 1) * step)..<((k + 2) * step))
            let session = try store.beginSession()
            let (ids, totals) = try ParallelChunker.store(
                numbers.map { UInt64($0) }, chunkSize: store.config.chunkSize, session: session, codec: store.chunkCodec
            ) { number, buffer in
                ChunkContent.numbered(buffer, number: number)
                return buffer.count
            }
            let chunks = k == 0 ? ids : Array(previous[step...]) + ids
            let disk = DiskWrite(
                virtualSize: UInt64(chunks.count * store.config.chunkSize), chunks: chunks, totals: totals,
                bytesRead: chunks.count * store.config.chunkSize)
            let createdAt = Date(timeIntervalSince1970: 1_798_761_600 + Double(k) * 86_400)
            manifests.append(try BenchStore.commit(
                session, store: store, vm: vm, createdAt: createdAt, disk: disk, basePoint: manifests.last?.id))
            bytesStored += totals.bytesStored
            previous = chunks
        }
        let forgotten = manifests.prefix(points / 3)
        for manifest in forgotten {
            try store.adapter.delete("points/\(manifest.vmUUID)/\(manifest.id)/manifest.json")
        }
        try printJSON([
            "command": "million", "points": points, "pointsForgotten": forgotten.count,
            "distinctChunks": (points + 1) * step, "liveChunksAfterForget": (points + 1 - forgotten.count) * step,
            "chunkSize": store.config.chunkSize, "packSize": store.config.packSize,
            "bytesStored": bytesStored, "seconds": monotonicSeconds() - started,
        ])
    }
}
