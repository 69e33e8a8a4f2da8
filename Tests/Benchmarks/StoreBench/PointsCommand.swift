import Foundation
import VBackupStore

/// `points`: one VM with `--count` points of the same virtual disk, each differing from the one
/// before in `--churn-percent` of its chunks, like nightly incrementals. Appends to an existing
/// series, so a benchmark can grow the store step by step (25, then 50, ... points).
///
/// Disk layout by chunk position: 20 % never written (zero), 40 % random, 40 % log-like text.
/// A churned chunk gets new content of its kind (text where it was unwritten).
enum PointsCommand {
    static func run(_ arguments: Arguments) throws {
        try arguments.only(["store", "cache", "count", "disk-mib", "churn-percent", "vm", "chunk-kib"])
        let count = try arguments.int("count", default: 200)
        let diskSize = try arguments.int("disk-mib", default: 256) << 20
        let churn = try arguments.double("churn-percent", default: 2)
        let store = try BenchStore.openOrCreate(
            arguments, chunkSize: try arguments.int("chunk-kib", default: 256) << 10, packSize: 16 << 20)
        let name = arguments.string("vm", default: "churn")
        let vm = (name: name, uuid: try BenchStore.vmUUID(named: name, in: store))
        let chunkSize = store.config.chunkSize
        let positions = (diskSize + chunkSize - 1) / chunkSize
        let existing = try store.listPoints(vm: name)
        var previous = try existing.last.map { try store.readDiskIndex($0.disks[0]).chunks }
        var baseID = existing.last?.id
        let started = monotonicSeconds()
        var totals = ParallelChunker.Totals()
        for k in existing.count..<max(count, existing.count) {
            let changed = previous == nil ? Array(0..<positions) : churned(point: k, positions: positions, percent: churn)
            let session = try store.beginSession()
            let (ids, written) = try ParallelChunker.store(changed, chunkSize: chunkSize, session: session, codec: store.chunkCodec) { position, buffer in
                fill(buffer, position: position, version: k, chunkSize: chunkSize, diskSize: diskSize)
            }
            var chunks = previous ?? Array(repeating: .zero, count: positions)
            for (position, id) in zip(changed, ids) { chunks[position] = id }
            let disk = DiskWrite(
                virtualSize: UInt64(diskSize), chunks: chunks, totals: written, bytesRead: changed.count * chunkSize)
            let createdAt = Date(timeIntervalSince1970: 1_798_761_600 + Double(k) * 86_400)
            baseID = try BenchStore.commit(session, store: store, vm: vm, createdAt: createdAt, disk: disk, basePoint: baseID).id
            previous = chunks
            totals.chunksNew += written.chunksNew
            totals.bytesStored += written.bytesStored
        }
        try printJSON([
            "command": "points", "points": max(count, existing.count), "pointsAdded": max(0, count - existing.count),
            "chunksPerPoint": positions, "chunksNew": totals.chunksNew, "bytesStored": totals.bytesStored,
            "seconds": monotonicSeconds() - started,
        ])
    }

    /// The positions point `k` rewrites: `percent` of them, chosen by a generator seeded by k.
    static func churned(point k: Int, positions: Int, percent: Double) -> [Int] {
        let wanted = min(positions, max(1, Int((Double(positions) * percent / 100).rounded())))
        var generator = ChunkContent.Generator(seed: UInt64(k) &* 7919 &+ 17)
        var chosen = Set<Int>()
        while chosen.count < wanted { chosen.insert(Int(generator.next() % UInt64(positions))) }
        return chosen.sorted()
    }

    /// The bytes of chunk `position` as point `version` wrote them; returns the chunk's length.
    static func fill(_ buffer: UnsafeMutableRawBufferPointer, position: Int, version: Int, chunkSize: Int, diskSize: Int) -> Int {
        let length = min(chunkSize, diskSize - position * chunkSize)
        let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
        let seed = UInt64(version) << 32 | UInt64(position)
        switch position % 10 {
        case 0...1 where version == 0: chunk.initializeMemory(as: UInt8.self, repeating: 0)
        case 2...5: ChunkContent.random(chunk, seed: seed)
        default: ChunkContent.text(chunk, seed: seed)
        }
        return length
    }
}
