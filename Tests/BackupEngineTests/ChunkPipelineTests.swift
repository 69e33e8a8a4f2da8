@testable import BackupEngine
import Foundation
import VBackupModel
import VBackupStore
import XCTest

/// The pipeline against an in-memory disk and chunk sink: what it stores and what it reuses.
final class ChunkPipelineTests: XCTestCase {
    final class MemoryDisk: BlockSource, @unchecked Sendable {
        var bytes: [UInt8]
        var reads: [Extent] = []
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
            reads.append(Extent(offset: offset, length: UInt64(buffer.count)))
            bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[Int(offset)..<Int(offset) + buffer.count])) }
        }
    }

    final class MemorySink: ChunkSink, @unchecked Sendable {
        private let lock = NSLock()
        var chunks: [ChunkID: Data] = [:]
        let codec = ChunkCodec.plain
        func add(_ chunk: EncodedChunk) throws -> Int {
            lock.withLock {
                if chunks[chunk.id] != nil { return 0 }
                chunks[chunk.id] = try? codec.decode(chunk.blob, expecting: chunk.id)
                return chunk.blob.count
            }
        }
        /// Chunks the store no longer offers (condemned by GC, lost).
        var unavailable: Set<ChunkID> = []
        func baseChunk(_ id: ChunkID) throws -> Data { try lock.withLock { try XCTUnwrap(chunks[id]) } }
        func canReference(_ id: ChunkID) throws -> Bool { lock.withLock { chunks[id] != nil && !unavailable.contains(id) } }
    }

    private func assemble(_ ids: [ChunkID], _ sink: MemorySink, size: Int, chunk: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        for (index, id) in ids.enumerated() where !id.isZero {
            let data = sink.chunks[id]!
            out.replaceSubrange(index * chunk..<index * chunk + data.count, with: data)
        }
        return out
    }

    func testAFullThenAnIncrementalReassembleTheDiskExactly() throws {
        let chunk = 4096, size = 4 * 4096 + 100
        var state: UInt32 = 12345
        var disk = (0..<size).map { _ -> UInt8 in
            state = state &* 1_103_515_245 &+ 12345   // no two chunks alike
            return UInt8(truncatingIfNeeded: state >> 16)
        }
        disk.replaceSubrange(4096..<8192, with: [UInt8](repeating: 0, count: 4096))
        let sink = MemorySink()
        let allocated = ExtentSet([Extent(offset: 0, length: 4096), Extent(offset: 8192, length: UInt64(size - 8192))])
        let full = ChunkPlanner(diskSize: UInt64(size), chunkSize: chunk, allocatedData: allocated, dirty: nil, base: nil)
        let (ids, stats) = try ChunkPipeline(planner: full, sink: sink, workers: 3).run(source: MemoryDisk(disk))
        XCTAssertEqual(assemble(ids, sink, size: size, chunk: chunk), disk)
        XCTAssertTrue(ids[1].isZero)
        XCTAssertEqual(stats.chunksNew, 4)

        // The guest rewrites 10 bytes in chunk 2 and zeroes the first 50 bytes of chunk 3.
        disk.replaceSubrange(9000..<9010, with: [UInt8](repeating: 0xEE, count: 10))
        disk.replaceSubrange(12288..<12338, with: [UInt8](repeating: 0, count: 50))
        let dirty = ExtentSet([Extent(offset: 9000, length: 10), Extent(offset: 12288, length: 50)])
        let nowAllocated = allocated.subtracting(ExtentSet([Extent(offset: 12288, length: 50)]))
        let base = DiskIndex(virtualSize: UInt64(size), chunkSize: chunk, chunks: ids)
        let incremental = ChunkPlanner(diskSize: UInt64(size), chunkSize: chunk, allocatedData: nowAllocated, dirty: dirty, base: base)
        let source = MemoryDisk(disk)
        let (next, nextStats) = try ChunkPipeline(planner: incremental, sink: sink, workers: 2).run(source: source)
        XCTAssertEqual(assemble(next, sink, size: size, chunk: chunk), disk)
        XCTAssertEqual(source.reads, [Extent(offset: 9000, length: 10)], "only the dirty data was read")
        XCTAssertEqual(nextStats.bytesRead, 10)
        XCTAssertEqual(next[0], ids[0])
        XCTAssertEqual(next[4], ids[4])
    }

    func testAnIncrementalReadsFromTheDiskTheBaseChunksTheStoreNoLongerOffers() throws {
        let chunk = 4096, size = 3 * 4096
        let disk = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7 + $0 / 4096) }
        let sink = MemorySink()
        let allocated = ExtentSet([Extent(offset: 0, length: UInt64(size))])
        let full = ChunkPlanner(diskSize: UInt64(size), chunkSize: chunk, allocatedData: allocated, dirty: nil, base: nil)
        let (ids, _) = try ChunkPipeline(planner: full, sink: sink, workers: 2).run(source: MemoryDisk(disk))

        // Chunk 0 is clean, chunk 1 partly dirty: both build on base chunks that GC condemned.
        sink.unavailable = [ids[0], ids[1]]
        let dirty = ExtentSet([Extent(offset: 4096 + 10, length: 10)])
        let base = DiskIndex(virtualSize: UInt64(size), chunkSize: chunk, chunks: ids)
        let incremental = ChunkPlanner(diskSize: UInt64(size), chunkSize: chunk, allocatedData: allocated, dirty: dirty, base: base)
        let source = MemoryDisk(disk)
        let (next, stats) = try ChunkPipeline(planner: incremental, sink: sink, workers: 2).run(source: source)
        XCTAssertEqual(assemble(next, sink, size: size, chunk: chunk), disk)
        XCTAssertEqual(Set(source.reads), [Extent(offset: 0, length: 4096), Extent(offset: 4096, length: 4096)],
                       "the unavailable chunks were read whole; chunk 2 was reused")
        XCTAssertEqual(stats.bytesRead, 8192)
        XCTAssertEqual(next[2], ids[2])
    }

    /// The pipeline reuses its chunk buffers: a chunk that is mostly hole, read into a buffer
    /// that last held a full chunk, must still be zero outside its data.
    func testHolesReadAsZerosInBuffersThatHeldOtherChunks() throws {
        let chunk = 4096, count = 40, size = chunk * count
        var disk = [UInt8](repeating: 0, count: size)
        var allocated: [Extent] = []
        for index in 0..<count {
            let start = index * chunk
            // Even chunks are all data; odd ones hold 100 bytes in the middle, the rest a hole.
            let range = index.isMultiple(of: 2) ? start..<start + chunk : start + 2000..<start + 2100
            for offset in range { disk[offset] = UInt8(truncatingIfNeeded: offset &* 31 &+ index) | 1 }
            allocated.append(Extent(offset: UInt64(range.lowerBound), length: UInt64(range.count)))
        }
        let sink = MemorySink()
        let planner = ChunkPlanner(diskSize: UInt64(size), chunkSize: chunk, allocatedData: ExtentSet(allocated), dirty: nil, base: nil)
        let (ids, stats) = try ChunkPipeline(planner: planner, sink: sink, workers: 1).run(source: MemoryDisk(disk))
        XCTAssertEqual(stats.chunksNew, count)
        XCTAssertEqual(assemble(ids, sink, size: size, chunk: chunk), disk)
    }

    func testACancelledRunStopsWithCancelled() {
        let planner = ChunkPlanner(diskSize: 8192, chunkSize: 4096, allocatedData: ExtentSet([Extent(offset: 0, length: 8192)]), dirty: nil, base: nil)
        let pipeline = ChunkPipeline(planner: planner, sink: MemorySink(), isCancelled: { true })
        XCTAssertThrowsError(try pipeline.run(source: MemoryDisk([UInt8](repeating: 1, count: 8192)))) { error in
            guard case EngineError.cancelled = error else { return XCTFail("\(error)") }
        }
    }
}
