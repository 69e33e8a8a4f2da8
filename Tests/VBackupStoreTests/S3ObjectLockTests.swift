import Foundation
@testable import S3Storage
import StorageAdapter
import XCTest

/// Object Lock (compliance mode) on a real RGW bucket created with `objectLock: true`. The
/// retention periods are seconds long so the test can wait them out and leave nothing behind.
final class S3ObjectLockTests: XCTestCase {
    func testRetainedObjectsRefuseDeletionAndRetentionOnlyGrows() throws {
        let lab = try S3Lab()
        let adapter = try lab.freshAdapter(self, prefix: "store", objectLock: true)
        XCTAssertTrue(adapter.canRetain)
        let start = floor(Date().timeIntervalSince1970)
        let firstUntil = Date(timeIntervalSince1970: start + 3)
        let extendedUntil = Date(timeIntervalSince1970: start + 6)

        try adapter.put("points/p1", data: Data("point".utf8), retainUntil: firstUntil)
        XCTAssertEqual(try adapter.retention(of: "points/p1"), firstUntil)
        XCTAssertEqual(try adapter.get("points/p1"), Data("point".utf8))

        // Delete is refused by the lock, naming the date; the object stays.
        assertThrows(StorageError.retained(key: "points/p1", until: firstUntil)) { try adapter.delete("points/p1") }
        XCTAssertEqual(try adapter.get("points/p1"), Data("point".utf8))

        // Extending moves the date later; asking for an earlier one changes nothing.
        try adapter.extendRetention("points/p1", until: extendedUntil)
        XCTAssertEqual(try adapter.retention(of: "points/p1"), extendedUntil)
        try adapter.extendRetention("points/p1", until: firstUntil)
        XCTAssertEqual(try adapter.retention(of: "points/p1"), extendedUntil)

        // An unlocked key in the same bucket, written twice (two versions), is really freed.
        try adapter.put("chunks/free", data: Data([1]))
        try adapter.put("chunks/free", data: Data([2]))
        XCTAssertNil(try adapter.retention(of: "chunks/free"))
        try adapter.delete("chunks/free")
        XCTAssertNil(try adapter.stat("chunks/free"))
        XCTAssertTrue(try S3Listing.versions(adapter.client, objectKey: "store/chunks/free").isEmpty, "no versions, no delete markers")

        // Once the date has passed, delete frees the retained object too.
        Thread.sleep(until: extendedUntil.addingTimeInterval(1))
        XCTAssertNil(try adapter.retention(of: "points/p1"))
        try adapter.delete("points/p1")
        XCTAssertTrue(try S3Listing.versions(adapter.client, objectKey: "store/points/p1").isEmpty)
    }

    func testABucketWithoutObjectLockCannotRetain() throws {
        let lab = try S3Lab()
        let adapter = try lab.freshAdapter(self)
        XCTAssertFalse(adapter.canRetain)
        XCTAssertThrowsError(try adapter.put("k", data: Data([1]), retainUntil: Date().addingTimeInterval(60))) { error in
            XCTAssertTrue("\(error)".contains("has no Object Lock"), "\(error)")
        }
        XCTAssertNil(try adapter.stat("k"), "nothing written")
    }
}
