@testable import BackupEngine
import Foundation
import VBackupStore
import XCTest

/// The served point's chunk cache: one decode however many readers ask at once, a byte bound
/// with the least recently used chunk going first, and failures not remembered.
final class ChunkCacheTests: XCTestCase {
    private func id(_ n: UInt8) -> ChunkID { ChunkID(bytes: [n] + [UInt8](repeating: 1, count: 31)) }

    func testConcurrentReadersOfOneChunkShareOneDecode() throws {
        let cache = ChunkCache(capacity: 1 << 20)
        let loads = Counter()
        let results = Counter()
        let readers = DispatchGroup()
        let chunk = id(1)
        for _ in 0..<16 {
            readers.enter()
            Thread.detachNewThread {
                defer { readers.leave() }
                let data = try? cache.data(for: chunk) {
                    loads.increment()
                    usleep(300_000)   // the other readers arrive while the first still decodes
                    return Data(repeating: 7, count: 1000)
                }
                if data == Data(repeating: 7, count: 1000) { results.increment() }
            }
        }
        readers.wait()
        XCTAssertEqual(loads.value, 1)
        XCTAssertEqual(results.value, 16)
    }

    func testTheLeastRecentlyUsedChunkIsEvictedPastTheBound() throws {
        let cache = ChunkCache(capacity: 3000)
        let loads = Counter()
        func read(_ n: UInt8) throws {
            _ = try cache.data(for: id(n)) {
                loads.increment()
                return Data(repeating: n, count: 1000)
            }
        }
        try read(1); try read(2); try read(3)
        try read(1)              // 1 is now newer than 2
        try read(4)              // over the bound: 2 goes
        XCTAssertEqual(loads.value, 4)
        try read(1); try read(3); try read(4)
        XCTAssertEqual(loads.value, 4, "1, 3 and 4 stayed")
        try read(2)
        XCTAssertEqual(loads.value, 5, "2 was evicted")
    }

    func testAFailedLoadIsTriedAgainByTheNextReader() throws {
        struct Rot: Error {}
        let cache = ChunkCache(capacity: 1 << 20)
        XCTAssertThrowsError(try cache.data(for: id(9)) { throw Rot() })
        XCTAssertEqual(try cache.data(for: id(9)) { Data([1, 2, 3]) }, Data([1, 2, 3]))
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
