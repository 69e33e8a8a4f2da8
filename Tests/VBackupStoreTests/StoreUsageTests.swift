import Foundation
import VBackupStore
import XCTest

/// `Store.usage()`: the totals the agent reports to the policy server after each job.
final class StoreUsageTests: XCTestCase {
    func testAnEmptyStoreHoldsNothing() throws {
        let store = try makeSmallStore(self, try StoreFixture(self))
        XCTAssertEqual(try store.usage(), StoreUsage(points: 0, logicalBytes: 0, storedBytes: 0))
    }

    func testUsageCountsPointsTheirDiskSizesAndThePackBytesOnStorage() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        _ = try backUp(store, chunks: diskChunks(count: 20, seed: 1), pointID: "p1")
        _ = try backUp(store, chunks: diskChunks(count: 20, seed: 2), pointID: "p2",
                       createdAt: Date(timeIntervalSince1970: 1_800_000_100))
        let packBytes = try fixture.adapter.list(prefix: "packs/").reduce(0) { $0 + $1.size }
        let usage = try store.usage()
        XCTAssertEqual(usage.points, 2)
        XCTAssertEqual(usage.logicalBytes, 2 * (4 << 20), "sampleManifest's disk is 4 MiB, once per point")
        XCTAssertGreaterThan(packBytes, 0)
        XCTAssertEqual(usage.storedBytes, UInt64(packBytes))

        try store.deletePoint(id: "p1")
        XCTAssertEqual(try store.usage().points, 1, "a deleted point no longer counts")
    }
}
