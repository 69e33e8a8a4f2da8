import Foundation
import LocalStorage
import StorageAdapter
import VBackupModel
import VBackupStore
import XCTest

/// What aborted sessions, crashes, lost caches, corruption and other hosts leave behind.
final class RecoveryTests: XCTestCase {
    func testAbortedSessionLeavesNoPointAndTheNextSessionWorks() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let session = try store.beginSession()
        for data in diskChunks(count: 12, seed: 10) where !data.withUnsafeBytes(ChunkCodec.isAllZero) {
            _ = try session.add(encode(data))
        }
        session.abort()
        XCTAssertThrowsError(try session.add(encode(Data("late".utf8))))
        XCTAssertThrowsError(try session.commit(sampleManifest(pointID: "p0")))
        XCTAssertEqual(try store.listPoints(), [])
        XCTAssertEqual(try fixture.keys("index/"), [], "an aborted session records no chunk")

        let chunks = diskChunks(count: 12, seed: 10)
        let result = try backUp(store, chunks: chunks, pointID: "p1")
        XCTAssertGreaterThan(result.bytesWritten, 0, "aborted chunks were never offered for dedup")
        for (position, id) in try store.readDiskIndex(result.manifest.disks[0]).chunks.enumerated() {
            XCTAssertEqual(try store.readChunk(id), chunks[position])
        }
    }

    func testCrashAfterPacksWereWrittenLeavesAWorkingStore() throws {
        let fixture = try StoreFixture(self)
        var store: Store? = try makeSmallStore(self, fixture)
        var session: WriteSession? = try store!.beginSession()
        for index in 0..<20 {
            _ = try session!.add(encode(pseudoRandomBytes(count: 64 << 10, seed: 2000 + UInt64(index))))
        }
        XCTAssertGreaterThan(try fixture.keys("packs/").count, 0, "full packs were put before the crash")
        // The process dies: session and store vanish without commit or abort.
        session = nil
        store = nil

        let reopened = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "after-crash"))
        XCTAssertEqual(try reopened.listPoints(), [])
        XCTAssertEqual(try fixture.keys("index/"), [])
        let chunks = (0..<20).map { pseudoRandomBytes(count: 64 << 10, seed: 2000 + UInt64($0)) }
        let result = try backUp(reopened, chunks: chunks, pointID: "p1")
        XCTAssertEqual(try reopened.listPoints().map(\.id), ["p1"])
        for (position, id) in result.index.chunks.enumerated() {
            XCTAssertEqual(try reopened.readChunk(id), chunks[position])
        }
    }

    func testRebuiltCatalogMatchesTheOriginal() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let first = try backUp(store, chunks: diskChunks(count: 16, seed: 20), pointID: "p1")
        let second = try backUp(store, chunks: diskChunks(count: 16, seed: 21), pointID: "p2",
                                createdAt: Date(timeIntervalSince1970: 1_800_000_500))

        let fresh = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "fresh-cache"))
        try fresh.rebuildCatalog()
        XCTAssertEqual(try fresh.listPoints(), try store.listPoints())
        for id in first.index.chunks + second.index.chunks {
            XCTAssertTrue(try fresh.hasChunk(id))
            XCTAssertEqual(try fresh.readChunk(id), try store.readChunk(id))
        }
        let again = try backUp(fresh, chunks: diskChunks(count: 16, seed: 20), pointID: "p3",
                               createdAt: Date(timeIntervalSince1970: 1_800_000_900))
        XCTAssertEqual(again.bytesWritten, 0, "the rebuilt catalog deduplicates")
    }

    func testFlippedByteInAPackIsReportedAsCorruption() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let data = pseudoRandomBytes(count: 64 << 10, seed: 30)
        let result = try backUp(store, chunks: [data], pointID: "p1")
        let packKey = try XCTUnwrap(try fixture.keys("packs/").first)
        let packURL = fixture.storeDirectory.appendingPathComponent(packKey)
        var bytes = try Data(contentsOf: packURL)
        bytes[100] ^= 0x01
        try bytes.write(to: packURL)

        XCTAssertThrowsError(try store.readChunk(result.index.chunks[0])) { error in
            guard case StoreError.corrupt(let key, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(key, packKey, "the error names the damaged object")
        }
    }

    func testTamperedDiskIndexFailsItsDigest() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let result = try backUp(store, chunks: diskChunks(count: 4, seed: 31), pointID: "p1")
        let disk = result.manifest.disks[0]
        let other = DiskIndex(virtualSize: 1, chunkSize: 1, chunks: [.zero])
        try fixture.adapter.put(disk.indexKey, data: other.serialized())
        XCTAssertThrowsError(try store.readDiskIndex(disk)) { error in
            guard case StoreError.corrupt(disk.indexKey, _) = error else { return XCTFail("\(error)") }
        }
    }

    func testAnotherHostSeesCommittedPointsAfterRefresh() throws {
        let fixture = try StoreFixture(self)
        let hostA = try makeSmallStore(self, fixture, cache: "host-a")
        let hostB = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "host-b"))
        let chunks = diskChunks(count: 8, seed: 40)
        let result = try backUp(hostA, chunks: chunks, pointID: "p1")
        XCTAssertEqual(try hostB.listPoints(), [], "B has not looked yet")

        try hostB.refresh()
        XCTAssertEqual(try hostB.listPoints(), [result.manifest])
        XCTAssertEqual(try hostB.readChunk(result.index.chunks[1]), chunks[1])
        XCTAssertEqual(try backUp(hostB, chunks: chunks, pointID: "p2").bytesWritten, 0, "B dedups against A")

        // A point deleted from the store disappears from a catalog on refresh.
        try fixture.adapter.delete("points/\(result.manifest.vmUUID)/p1/manifest.json")
        try hostA.refresh()
        XCTAssertEqual(try hostA.listPoints().map(\.id), ["p2"])
    }
}
