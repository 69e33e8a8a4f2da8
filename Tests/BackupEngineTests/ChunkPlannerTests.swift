@testable import BackupEngine
import VBackupModel
import VBackupStore
import XCTest

final class ChunkPlannerTests: XCTestCase {
    private let chunk = 1024
    private let a = ChunkID(bytes: [UInt8](repeating: 0xAA, count: 32))
    private let b = ChunkID(bytes: [UInt8](repeating: 0xBB, count: 32))

    private func extents(_ pairs: [(UInt64, UInt64)]) -> ExtentSet {
        ExtentSet(pairs.map { Extent(offset: $0.0, length: $0.1) })
    }

    func testAFullBackupReadsOnlyAllocatedDataAndSkipsEmptyChunks() {
        let planner = ChunkPlanner(diskSize: 3000, chunkSize: chunk, allocatedData: extents([(100, 50), (2500, 500)]), dirty: nil, base: nil)
        XCTAssertEqual(planner.chunkCount, 3)
        XCTAssertEqual(planner.action(for: 0), .read(data: [Extent(offset: 100, length: 50)], keep: [], base: nil))
        XCTAssertEqual(planner.action(for: 1), .zero)
        XCTAssertEqual(planner.window(2), Extent(offset: 2048, length: 952), "the last chunk is short")
        XCTAssertEqual(planner.action(for: 2), .read(data: [Extent(offset: 2500, length: 500)], keep: [], base: nil))
    }

    func testAnIncrementalReusesCleanChunksAndMergesPartlyDirtyOnes() {
        let base = DiskIndex(virtualSize: 3072, chunkSize: chunk, chunks: [a, .zero, b])
        let planner = ChunkPlanner(diskSize: 3072, chunkSize: chunk, allocatedData: extents([(0, 3072)]),
                                   dirty: extents([(2048, 100)]), base: base)
        XCTAssertEqual(planner.action(for: 0), .reuse(a))
        XCTAssertEqual(planner.action(for: 1), .zero, "a clean zero chunk stays zero")
        XCTAssertEqual(planner.action(for: 2), .read(data: [Extent(offset: 2048, length: 100)],
                                                     keep: [Extent(offset: 2148, length: 924)], base: b))
    }

    func testDirtyRangesThatNowReadAsZeroAreZeroedNotKept() {
        // The guest zeroed [1100, 1200): dirty, but no longer allocated data.
        let base = DiskIndex(virtualSize: 2048, chunkSize: chunk, chunks: [a, b])
        let planner = ChunkPlanner(diskSize: 2048, chunkSize: chunk, allocatedData: extents([(0, 1100), (1200, 848)]),
                                   dirty: extents([(1100, 100)]), base: base)
        guard case .read(let data, let keep, let baseID) = planner.action(for: 1) else { return XCTFail("expected a read") }
        XCTAssertEqual(data, [], "nothing to read: the dirty range is zero now")
        XCTAssertEqual(keep, [Extent(offset: 1024, length: 76), Extent(offset: 1200, length: 848)])
        XCTAssertEqual(baseID, b, "the zeroed range is not in keep, so it stays zero in the new chunk")
    }

    func testAWhollyDirtyChunkNeedsNoBase() {
        let base = DiskIndex(virtualSize: 1024, chunkSize: chunk, chunks: [a])
        let zeroed = ChunkPlanner(diskSize: 1024, chunkSize: chunk, allocatedData: ExtentSet(), dirty: extents([(0, 1024)]), base: base)
        XCTAssertEqual(zeroed.action(for: 0), .zero)
        let rewritten = ChunkPlanner(diskSize: 1024, chunkSize: chunk, allocatedData: extents([(0, 1024)]), dirty: extents([(0, 1024)]), base: base)
        XCTAssertEqual(rewritten.action(for: 0), .read(data: [Extent(offset: 0, length: 1024)], keep: [], base: nil))
    }
}
