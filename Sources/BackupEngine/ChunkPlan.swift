import VBackupModel
import VBackupStore

/// What the backup does with one fixed-size chunk of a disk.
enum ChunkAction: Equatable {
    /// The chunk reads as zero: nothing is read, hashed or stored.
    case zero
    /// Nothing in the chunk changed since the base point: its chunk id is taken over as is.
    case reuse(ChunkID)
    /// Read `data` from the disk; the rest of the chunk is zero, except `keep`, which is
    /// copied from the base point's chunk `base` (the clean part of a partly dirty chunk).
    case read(data: [Extent], keep: [Extent], base: ChunkID?)
}

/// Decides, chunk by chunk, what a backup must read. Pure: the extent maps come from NBD block
/// status, the base from the store.
struct ChunkPlanner {
    let diskSize: UInt64
    let chunkSize: UInt64
    /// Data per chunk: extents `base:allocation` reports as neither hole nor zero.
    private let data: [Int: [Extent]]
    /// Dirty extents per chunk since the base checkpoint; nil for a full backup.
    private let dirty: [Int: [Extent]]?
    private let base: DiskIndex?

    var chunkCount: Int { Int((diskSize + chunkSize - 1) / chunkSize) }

    /// - Parameters:
    ///   - allocatedData: the disk's non-zero data (for an incremental only its dirty part matters).
    ///   - dirty: extents changed since the base checkpoint, or nil to read everything.
    ///   - base: the base point's index; required when `dirty` is given.
    init(diskSize: UInt64, chunkSize: Int, allocatedData: ExtentSet, dirty: ExtentSet?, base: DiskIndex?) {
        precondition(dirty == nil || base != nil, "an incremental needs a base index")
        self.diskSize = diskSize
        self.chunkSize = UInt64(chunkSize)
        self.data = allocatedData.bucketed(chunkSize: UInt64(chunkSize))
        self.dirty = dirty?.bucketed(chunkSize: UInt64(chunkSize))
        self.base = base
    }

    func window(_ chunk: Int) -> Extent {
        let start = UInt64(chunk) * chunkSize
        return Extent(offset: start, length: min(chunkSize, diskSize - start))
    }

    func action(for chunk: Int) -> ChunkAction {
        let dataHere = data[chunk] ?? []
        guard let dirty, let base else {
            return dataHere.isEmpty ? .zero : .read(data: dataHere, keep: [], base: nil)
        }
        let baseID = base.chunks[chunk]
        guard let dirtyHere = dirty[chunk] else {
            return baseID.isZero ? .zero : .reuse(baseID)
        }
        let dirtySet = ExtentSet(dirtyHere)
        let readHere = ExtentSet(dataHere).intersection(dirtySet).extents
        let keep = ExtentSet([window(chunk)]).subtracting(dirtySet).extents
        if baseID.isZero || keep.isEmpty {
            return readHere.isEmpty ? .zero : .read(data: readHere, keep: [], base: nil)
        }
        return .read(data: readHere, keep: keep, base: baseID)
    }

    /// The chunk read whole from the disk, as a full backup would.
    func freshRead(_ chunk: Int) -> ChunkAction {
        let dataHere = data[chunk] ?? []
        return dataHere.isEmpty ? .zero : .read(data: dataHere, keep: [], base: nil)
    }
}
