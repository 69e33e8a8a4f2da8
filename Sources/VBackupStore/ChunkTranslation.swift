import Foundation
import VBackupModel

/// Source chunk id → target chunk id, for copies between stores that name chunks differently
/// (an encrypted store names them by its own HMAC). Without it, learning a chunk's target name
/// means reading and decoding the source chunk, even when the target has it.
///
/// The mapping is already written down in both stores: a point present in both has, disk by
/// disk, the same chunks in the same positions, so its two disk indexes zipped together are a
/// translation table. The copier seeds one from the newest such "twin" of the VM (a point an
/// earlier run copied) and adds every chunk it translates itself, so a nightly copy of a new
/// incremental point reads from the source only what changed since the last copied one.
///
/// Thread-safe. One per VM: memory grows with that VM's distinct chunks (64 bytes each).
final class ChunkTranslation: @unchecked Sendable {
    private let lock = NSLock()
    private var targets: [ChunkID: ChunkID] = [:]

    var count: Int { lock.withLock { targets.count } }

    func target(for source: ChunkID) -> ChunkID? {
        lock.withLock { targets[source] }
    }

    func record(_ source: ChunkID, _ target: ChunkID) {
        lock.withLock { targets[source] = target }
    }

    /// Zips the disk indexes of the newest point of `vmUUID` that both stores hold. Seeding is
    /// only a shortcut: a twin that cannot be read leaves the table as it is (every chunk is
    /// then translated by reading it).
    func seed(vmUUID: String, source: Store, target: Store) {
        do {
            let inSource = Set(try source.listPoints(vm: vmUUID).map(\.id))
            guard let twin = try target.listPoints(vm: vmUUID).last(where: { inSource.contains($0.id) }) else { return }
            let original = try source.point(id: twin.id)
            for disk in twin.disks {
                guard let sourceDisk = original.disks.first(where: { $0.target == disk.target }) else { continue }
                let sourceIndex = try source.readDiskIndex(sourceDisk)
                let targetIndex = try target.readDiskIndex(disk)
                guard sourceIndex.chunks.count == targetIndex.chunks.count else { continue }
                lock.withLock {
                    for (from, to) in zip(sourceIndex.chunks, targetIndex.chunks) where !from.isZero {
                        targets[from] = to
                    }
                }
            }
        } catch {
            return
        }
    }
}
