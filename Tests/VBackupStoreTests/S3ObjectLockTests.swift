import Foundation
@testable import S3Storage
import StorageAdapter
import XCTest

/// Object Lock (compliance mode) on a real RGW bucket created with `objectLock: true`. The
/// retention periods are seconds long so the test can wait them out and leave nothing behind.
final class S3ObjectLockTests: XCTestCase {
    func testRetainedObjectsRefuseDeletionAndRetentionOnlyGrows() throws {
        let lab = try S3Lab()
        let adapter = try lab.freshAdapter(self, prefix: "store", options: "&multipart-threshold=5MiB&part-size=5MiB", objectLock: true)
        XCTAssertTrue(adapter.canRetain)
        // Long enough that every refusal below comes before the first date even on a loaded
        // machine (a 6 MiB PUT is among them); the test then waits the dates out.
        let start = floor(Date().timeIntervalSince1970)
        let firstUntil = Date(timeIntervalSince1970: start + 10)
        let extendedUntil = Date(timeIntervalSince1970: start + 14)

        try adapter.put("points/p1", data: Data("point".utf8), retainUntil: firstUntil)
        XCTAssertEqual(try adapter.retention(of: "points/p1"), firstUntil)
        XCTAssertEqual(try adapter.get("points/p1"), Data("point".utf8))

        // A retained object above the multipart threshold still goes up in one PUT with its
        // lock (RGW 16.2 drops the lock of a multipart upload).
        let big = s3TestBytes(count: 6 << 20, seed: 3)
        let beforeBig = adapter.requestTally
        try adapter.put("packs/big", data: big, retainUntil: firstUntil)
        XCTAssertEqual(adapter.requestTally.puts - beforeBig.puts, 1)
        XCTAssertEqual(adapter.requestTally.other - beforeBig.other, 0)
        XCTAssertEqual(try adapter.retention(of: "packs/big"), firstUntil)
        assertThrows(StorageError.retained(key: "packs/big", until: firstUntil)) { try adapter.delete("packs/big") }

        // Delete is refused by the lock, naming the date; the object stays.
        assertThrows(StorageError.retained(key: "points/p1", until: firstUntil)) { try adapter.delete("points/p1") }
        XCTAssertEqual(try adapter.get("points/p1"), Data("point".utf8))

        // Extending moves the date later, in one request; asking for an earlier one changes nothing.
        let beforeExtend = adapter.requestTally
        try adapter.extendRetention("points/p1", until: extendedUntil)
        XCTAssertEqual(adapter.requestTally.total - beforeExtend.total, 1, "an extension is one PutObjectRetention")
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
        try adapter.delete("packs/big")
        XCTAssertTrue(try S3Listing.versions(adapter.client, objectKey: "store/points/p1").isEmpty)
        XCTAssertTrue(try S3Listing.versions(adapter.client, objectKey: "store/packs/big").isEmpty)
    }

    /// Object Lock makes the bucket versioned: the contract must hold there too (delete really
    /// deletes, createExclusive still excludes).
    func testPassesTheAdapterConformanceSuiteOnAnObjectLockBucket() throws {
        let lab = try S3Lab()
        let adapter = try lab.freshAdapter(self, objectLock: true)
        try checkStorageAdapterConformance { adapter }
        for object in try adapter.list(prefix: "") { try adapter.delete(object.key) }
        let versions = try adapter.send("bucket", S3Request(.GET, nil, kind: .list, query: [("versions", "")])).xml
        XCTAssertTrue(versions.elements("Version").isEmpty && versions.elements("DeleteMarker").isEmpty, "deletes left nothing behind")
    }

    /// RGW 16.2 ignores `If-None-Match: *` in versioned buckets; the adapter settles the race
    /// by the key's versions. Round after round, exactly one of eight racers wins, its bytes
    /// are what a reader gets, and the losers leave no version behind.
    func testExclusiveCreateHasExactlyOneWinnerInAVersionedBucketRoundAfterRound() throws {
        let lab = try S3Lab()
        let adapter = try lab.freshAdapter(self, options: "&parallel=8", objectLock: true)
        for round in 0..<10 {
            let key = "locks/round-\(round % 2)"
            let winners = Locked([Int]())
            try onThreads(8, width: 8) { racer in
                if try adapter.createExclusive(key, data: Data([UInt8(racer)])) { winners.update { $0.append(racer) } }
            }
            XCTAssertEqual(winners.value.count, 1, "round \(round): winners \(winners.value)")
            XCTAssertEqual(try adapter.get(key), Data([UInt8(winners.value.first ?? 99)]), "round \(round)")
            XCTAssertEqual(try S3Listing.versions(adapter.client, objectKey: key).count, 1, "round \(round): losers' versions gone")
            XCTAssertFalse(try adapter.createExclusive(key, data: Data([42])), "round \(round): held")
            try adapter.delete(key)
        }
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
