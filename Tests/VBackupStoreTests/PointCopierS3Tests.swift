import Foundation
import LocalStorage
import S3Storage
import StorageAdapter
import VBackupModel
@testable import VBackupStore
import XCTest

/// `PointCopier` against the lab's real Ceph RGW: local → S3 and S3 → S3 copies read back
/// bit-exact and verify; an interrupted copy into S3 resumes without sending again what
/// arrived. Needs the `VBACKUP_TEST_S3_*` variables (`.ci/rgw env`); fails without them.
final class PointCopierS3Tests: XCTestCase {
    let vmUUID = "6f1c2d3e-0000-4000-8000-0000000000c5"

    /// A store in a new bucket of its own (`vbt-copy-…`), removed with everything in it after the test.
    func s3Store(encrypted: Bool) throws -> Store {
        let lab = try S3Lab()
        let bucket = "vbt-copy-" + String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))
        let adapter = try S3StorageAdapter(location: lab.location(bucket, prefix: "store/"), credentials: lab.credentials, create: true)
        addTeardownBlock { try? lab.removeBucket(of: adapter) }
        return try Store.create(
            adapter: adapter, cacheDirectory: makeTemporaryDirectory(self, "s3-cache"), chunkSize: 64 << 10, packSize: 1 << 20,
            encryption: encrypted ? EncryptionSetup(passphrase: testPassphrase, kdf: testKDF) : nil)
    }

    func localStore() throws -> Store {
        try Store.create(adapter: StoreFixture(self).adapter, cacheDirectory: makeTemporaryDirectory(self, "local-cache"),
                         chunkSize: 64 << 10, packSize: 1 << 20)
    }

    /// One disk of `chunks` committed as point `id`, with an NVRAM object.
    @discardableResult
    func backUp(_ store: Store, _ chunks: [Data], id: String, at seconds: TimeInterval) throws -> PointManifest {
        let session = try store.beginSession()
        var ids: [ChunkID] = []
        for data in chunks {
            if data.withUnsafeBytes(ChunkCodec.isAllZero) { ids.append(.zero); continue }
            let chunk = encode(data, with: store.chunkCodec)
            _ = try session.add(chunk)
            ids.append(chunk.id)
        }
        let index = DiskIndex(virtualSize: UInt64(chunks.count << 16), chunkSize: 64 << 10, chunks: ids)
        let disk = try session.putDiskIndex(index, vmUUID: vmUUID, pointID: id, target: "vda")
        var manifest = sampleManifest(pointID: id, vmUUID: vmUUID, createdAt: Date(timeIntervalSince1970: 1_800_000_000 + seconds), disk: disk)
        manifest.nvramKey = try session.putPointObject(Data("nvram of \(id)".utf8), vmUUID: vmUUID, pointID: id, name: "nvram")
        try session.commit(manifest)
        return manifest
    }

    /// 128 chunks (8 MiB): a quarter zero, the rest random.
    func disk(seed: UInt64) -> [Data] {
        (0..<128).map { $0 % 4 == 0 ? Data(count: 64 << 10) : s3TestBytes(count: 64 << 10, seed: seed * 1000 + UInt64($0)) }
    }

    func assertHolds(_ store: Store, _ id: String, _ chunks: [Data], file: StaticString = #filePath, line: UInt = #line) throws {
        let point = try store.point(id: id)
        let index = try store.readDiskIndex(point.disks[0])
        XCTAssertEqual(try index.chunks.map { try store.readChunk($0) }, chunks, "point \(id) reads back bit-exact", file: file, line: line)
        XCTAssertEqual(try store.readPointObject(key: XCTUnwrap(point.nvramKey)), Data("nvram of \(id)".utf8), file: file, line: line)
    }

    func testLocalToS3AndS3ToS3CopiesReadBackBitExactAndVerify() throws {
        let local = try localStore()
        let first = disk(seed: 1)
        var second = first
        for position in [1, 2, 3, 5] { second[position] = s3TestBytes(count: 64 << 10, seed: 9000 + UInt64(position)) }
        try backUp(local, first, id: "p1", at: 0)
        try backUp(local, second, id: "p2", at: 3600)

        let offsite = try s3Store(encrypted: true)
        let toS3 = try PointCopier(from: local, to: offsite).copy(local.listPoints())
        XCTAssertEqual(toS3.copied.map(\.id), ["p1", "p2"])
        XCTAssertEqual(toS3.chunksSent, 96 + 4, "each distinct non-zero chunk once")
        try assertHolds(offsite, "p1", first)
        try assertHolds(offsite, "p2", second)
        XCTAssertTrue(try offsite.verify().ok)

        let again = try PointCopier(from: local, to: offsite).copy(local.listPoints())
        XCTAssertEqual(again.alreadyThere.map(\.id), ["p1", "p2"])
        XCTAssertEqual(again.chunksSent + again.bytesSent, 0)

        let third = try s3Store(encrypted: false)
        let s3ToS3 = try PointCopier(from: offsite, to: third).copy(offsite.listPoints())
        XCTAssertEqual(s3ToS3.copied.map(\.id), ["p1", "p2"])
        XCTAssertEqual(s3ToS3.chunksSent, 100)
        try assertHolds(third, "p1", first)
        try assertHolds(third, "p2", second)
        XCTAssertTrue(try third.verify().ok)
    }

    func testAnInterruptedCopyIntoS3ResumesSendingOnlyTheRest() throws {
        let local = try localStore()
        let chunks = disk(seed: 2)
        try backUp(local, chunks, id: "p1", at: 0)
        let offsite = try s3Store(encrypted: true)
        let sends = ThrottleLog()
        var options = CopyOptions()
        options.checkpointBytes = 1
        options.throttle = { sends.add($0) }
        options.isCancelled = { sends.calls >= 60 }

        let first = try PointCopier(from: local, to: offsite, options: options).copy(local.listPoints())
        XCTAssertTrue(first.interrupted)
        XCTAssertGreaterThanOrEqual(first.chunksSent, 50)
        XCTAssertThrowsError(try offsite.point(id: "p1"), "no manifest: the point does not exist yet")

        let resumed = try PointCopier(from: local, to: offsite).copy(local.listPoints())
        XCTAssertEqual(resumed.copied.map(\.id), ["p1"])
        XCTAssertEqual(first.chunksSent + resumed.chunksSent, 96, "nothing sent twice")
        XCTAssertEqual(resumed.chunksDeduplicated, first.chunksSent)
        try assertHolds(offsite, "p1", chunks)
        XCTAssertTrue(try offsite.verify().ok)
    }

    /// An off-site copy with `immutableFor` into an Object Lock bucket: each copied point, and
    /// every pack and index fragment it needs, is retained past the point's date; the store's
    /// own credentials can delete none of it; it reads back bit-exact. A target without the
    /// lock is refused before anything is sent.
    func testCopiesMadeImmutableHoldAgainstTheStoresOwnCredentials() throws {
        setenv("VBACKUP_IMMUTABLE_SLACK_SECONDS", "5", 1)
        defer { unsetenv("VBACKUP_IMMUTABLE_SLACK_SECONDS") }
        let source = try localStore()
        let first = disk(seed: 21)
        var second = first
        for position in 1..<9 { second[position] = s3TestBytes(count: 64 << 10, seed: 22_000 + UInt64(position)) }
        try backUp(source, first, id: "p1", at: 0)
        try backUp(source, second, id: "p2", at: 60)
        var options = CopyOptions()
        options.immutableFor = 15

        let plain = try s3Store(encrypted: false)
        XCTAssertThrowsError(try PointCopier(from: source, to: plain, options: options)) { error in
            XCTAssertTrue("\(error)".contains("cannot keep immutable points"), "\(error)")
        }
        XCTAssertTrue(try plain.listPoints().isEmpty, "nothing was sent to a target without the lock")

        let locked = try LockedStore(self)
        let started = Date()
        let report = try PointCopier(from: source, to: locked.store, options: options).copy(try source.listPoints())
        XCTAssertEqual(report.copied.map(\.id), ["p1", "p2"])
        let dates = try report.copied.map { try XCTUnwrap($0.immutableUntil, "\($0.id) is immutable") }
        for date in dates {
            XCTAssertGreaterThanOrEqual(date, started.addingTimeInterval(15))
            XCTAssertLessThanOrEqual(date, Date().addingTimeInterval(16))
        }
        XCTAssertEqual(try locked.store.listPoints().map { $0.immutableUntil }, dates, "the target's manifests carry the dates")

        let latest = try XCTUnwrap(dates.max())
        let pointKeys = try ["p1", "p2"].flatMap { id in
            try locked.adapter.list(prefix: StoreFormat.pointPrefix(vmUUID: vmUUID, pointID: id)).map(\.key)
        }
        let shared = try locked.adapter.list(prefix: "packs/").map(\.key) + locked.adapter.list(prefix: "index/").map(\.key)
        XCTAssertFalse(shared.isEmpty)
        for key in pointKeys {
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(try locked.adapter.retention(of: key), key), dates[0], key)
        }
        for key in shared {
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(try locked.adapter.retention(of: key), key), latest,
                                        "\(key) outlives every copy that needs it")
        }
        for key in [pointKeys[0], shared[0]] {
            XCTAssertThrowsError(try locked.adapter.delete(key)) { error in
                guard case StorageError.retained = error else { return XCTFail("\(key): \(error)") }
            }
        }
        XCTAssertThrowsError(try locked.store.deletePoint(id: "p1")) { error in
            XCTAssertTrue("\(error)".contains("is immutable until"), "\(error)")
        }
        try assertHolds(locked.store, "p1", first)
        try assertHolds(locked.store, "p2", second)
    }
}
