import VBackupModel
import XCTest

final class ExtentSetTests: XCTestCase {
    private func set(_ pairs: [(UInt64, UInt64)]) -> ExtentSet {
        ExtentSet(pairs.map { Extent(offset: $0.0, length: $0.1) })
    }

    func testOverlappingAndTouchingExtentsMergeAndEmptyOnesVanish() {
        XCTAssertEqual(set([(10, 5), (0, 10), (30, 0), (14, 6), (40, 2)]).extents,
                       [Extent(offset: 0, length: 20), Extent(offset: 40, length: 2)])
    }

    func testIntersectionKeepsOnlyCommonBytes() {
        let dirty = set([(0, 100), (200, 50)])
        let data = set([(50, 200)])
        XCTAssertEqual(dirty.intersection(data), set([(50, 50), (200, 50)]))
        XCTAssertTrue(dirty.intersection(set([(100, 100)])).isEmpty)
    }

    func testSubtractingCutsHolesAndEnds() {
        let whole = set([(0, 100)])
        XCTAssertEqual(whole.subtracting(set([(10, 10), (50, 60)])), set([(0, 10), (20, 30)]))
        XCTAssertEqual(whole.subtracting(set([(0, 100)])), ExtentSet())
        XCTAssertEqual(set([(0, 10), (20, 10)]).subtracting(set([(5, 20)])), set([(0, 5), (25, 5)]))
    }

    func testBucketingSplitsExtentsAtChunkBoundaries() {
        let buckets = set([(900, 300), (4096, 10)]).bucketed(chunkSize: 1024)
        XCTAssertEqual(buckets[0], [Extent(offset: 900, length: 124)])
        XCTAssertEqual(buckets[1], [Extent(offset: 1024, length: 176)])
        XCTAssertEqual(buckets[4], [Extent(offset: 4096, length: 10)])
        XCTAssertNil(buckets[2])
    }

    func testTotalLengthAndContains() {
        let s = set([(0, 10), (20, 5)])
        XCTAssertEqual(s.totalLength, 15)
        XCTAssertTrue(s.contains(Extent(offset: 2, length: 8)))
        XCTAssertFalse(s.contains(Extent(offset: 8, length: 4)))
    }
}
