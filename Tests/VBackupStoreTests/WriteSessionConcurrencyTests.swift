import Foundation
import LocalStorage
import VBackupStore
import XCTest

/// Many threads adding to one write session at once, each filling packs: what the copier (one
/// thread per source request slot) and a backup on a many-core host do.
final class WriteSessionConcurrencyTests: XCTestCase {
    func testEightThreadsFillingPacksAtOnceNeverWaitForEachOtherForever() throws {
        let fixture = try StoreFixture(self)
        // Every chunk fills a pack: each add seals one and starts its upload.
        let store = try Store.create(adapter: fixture.adapter, cacheDirectory: makeTemporaryDirectory(self, "cache"),
                                     chunkSize: 64 << 10, packSize: 1)
        let session = try store.beginSession()
        let chunks = (0..<320).map { encode(pseudoRandomBytes(count: 4096, seed: 700 + UInt64($0))) }
        let finished = DispatchSemaphore(value: 0)
        let failures = ThrottleLog()
        // Threads, not concurrentPerform: that would use only as many threads as cores.
        for thread in 0..<8 {
            Thread.detachNewThread {
                for chunk in chunks[(thread * 40)..<(thread * 40 + 40)] where (try? session.add(chunk)) == nil { failures.add(1) }
                finished.signal()
            }
        }
        for _ in 0..<8 where finished.wait(timeout: .now() + 60) == .timedOut {
            return XCTFail("the adding threads are stuck waiting for uploads none of them started")
        }
        XCTAssertEqual(failures.calls, 0)
        let disk = try session.putDiskIndex(DiskIndex(virtualSize: 320 * 4096, chunkSize: 4096, chunks: chunks.map(\.id)),
                                            vmUUID: "6f1c2d3e-0000-4000-8000-0000000000c7", pointID: "p1", target: "vda")
        try session.commit(sampleManifest(pointID: "p1", vmUUID: "6f1c2d3e-0000-4000-8000-0000000000c7", disk: disk))
        XCTAssertEqual(try fixture.keys("packs/").count, 320)
        XCTAssertTrue(try store.verify().ok)
    }
}
