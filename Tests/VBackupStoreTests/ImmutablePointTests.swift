import Foundation
import StorageAdapter
import VBackupModel
@testable import VBackupStore
import XCTest

/// Immutable points on storage with object lock: what the point and the packs it needs are
/// retained until, that nobody (the store's own operator included) can delete or shorten
/// them, and how prune, deletePoint and GC behave before and after the date.
final class ImmutablePointTests: XCTestCase {
    /// Packs get half the point's period on top, and no one-day minimum, so a test can wait
    /// for them to expire.
    static let slack = RetentionSlack(minimum: 0, fraction: 0.5)

    func testAnImmutablePointHoldsAgainstEveryoneUntilItsDateThenPruneAndGCFreeEverything() throws {
        let locked = try LockedStore(self)
        let store = locked.store, adapter = locked.adapter
        let t0 = Date()
        let chunks = diskChunks(count: 16, seed: 1)
        let until1 = Date(timeIntervalSince1970: t0.addingTimeInterval(10).timeIntervalSince1970.rounded(.up))

        // 1. The point and everything it wrote are retained until its date.
        let p1 = try backUpImmutable(store, chunks: chunks, pointID: "p1", until: until1)
        XCTAssertEqual(p1.manifest.immutableUntil, until1, "commit stamps the session's date")
        XCTAssertEqual(try store.point(id: "p1").immutableUntil?.timeIntervalSince1970 ?? 0, until1.timeIntervalSince1970, accuracy: 0.001)
        let p1Packs = Set(try adapter.list(prefix: "packs/").map(\.key))
        XCTAssertGreaterThan(p1Packs.count, 1)
        let pointKeys = try adapter.list(prefix: StoreFormat.pointPrefix(vmUUID: p1.manifest.vmUUID, pointID: "p1")).map(\.key)
        XCTAssertEqual(Set(pointKeys.map { $0.split(separator: "/").last! }), ["manifest.json", "vda.didx"])
        let fragments = try adapter.list(prefix: "index/").map(\.key)
        for key in pointKeys + Array(p1Packs) + fragments {
            let retention = try XCTUnwrap(try adapter.retention(of: key), "\(key) is retained")
            XCTAssertGreaterThanOrEqual(retention, until1, key)
        }

        // 2. The operator, with the store's credentials, can neither delete nor shorten them.
        for key in pointKeys + [p1Packs.first!] + fragments {
            assertRetained(key) { try adapter.delete(key) }
        }
        let manifestKey = StoreFormat.manifestKey(vmUUID: p1.manifest.vmUUID, pointID: "p1")
        let before = try adapter.retention(of: manifestKey)
        try adapter.extendRetention(manifestKey, until: until1.addingTimeInterval(-8))
        XCTAssertEqual(try adapter.retention(of: manifestKey), before, "an earlier date changes nothing")
        XCTAssertThrowsError(try store.deletePoint(id: "p1")) { error in
            XCTAssertEqual((error as? ImmutablePointError)?.pointID, "p1")
            XCTAssertTrue("\(error)".contains("is immutable until"), "\(error)")
        }
        try assertReadsBack(store, p1.manifest, chunks)

        // 3. An ordinary point reusing half of p1's chunks, with chunks of its own in packs
        // written without retention.
        let half = chunks.enumerated().map { $0.offset % 2 == 0 ? $0.element : Data(count: 64 << 10) } + diskChunks(count: 8, seed: 5)
        let packsBefore = Set(try adapter.list(prefix: "packs/").map(\.key))
        let ordinary = try backUp(store, chunks: half, pointID: "ordinary")
        XCTAssertNil(ordinary.manifest.immutableUntil)
        let ordinaryPacks = Set(try adapter.list(prefix: "packs/").map(\.key)).subtracting(packsBefore)
        XCTAssertFalse(ordinaryPacks.isEmpty)
        for key in ordinaryPacks { XCTAssertNil(try adapter.retention(of: key), key) }

        // 4. A later immutable point deduplicating p1's and the ordinary point's chunks extends
        // their packs to its date, once: a third point with the same date finds them known in
        // the catalog.
        let until2 = Date(timeIntervalSince1970: t0.addingTimeInterval(20).timeIntervalSince1970.rounded(.up))
        let more = chunks + diskChunks(count: 8, seed: 5) + diskChunks(count: 8, seed: 2)
        let p2 = try backUpImmutable(store, chunks: more, pointID: "p2", until: until2)
        XCTAssertEqual(p2.retentionRequests, p1Packs.count + ordinaryPacks.count, "one request for each pack it reuses")
        for key in p1Packs.union(ordinaryPacks) {
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(try adapter.retention(of: key)), until2, key)
        }
        let p3 = try backUpImmutable(store, chunks: more, pointID: "p3", until: until2)
        XCTAssertEqual(p3.retentionRequests, 0, "every pack p3 needs is already known retained past its date")

        // 5. GC leaves what a crashed immutable backup wrote (a retained pack and disk index
        // that no point names) and says until when; verify still passes.
        try writeCrashedBackup(store, vmUUID: p1.manifest.vmUUID, until: t0.addingTimeInterval(10))
        let packsBeforeGC = Set(try adapter.list(prefix: "packs/").map(\.key))
        let gc1 = try store.collectGarbage()
        XCTAssertEqual(gc1.packsDeleted, 0)
        XCTAssertGreaterThanOrEqual(gc1.packsRetained, 1, "the crashed backup's pack")
        XCTAssertEqual(gc1.objectsRetained, 1, "the crashed backup's disk index")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(gc1.retainedUntil), t0.addingTimeInterval(9))
        XCTAssertEqual(Set(try adapter.list(prefix: "packs/").map(\.key)), packsBeforeGC, "nothing deleted")
        XCTAssertTrue(try store.verify(VerifyOptions(repair: false)).ok)

        // 6. Once the points' dates pass, they can be removed; the packs they shared still
        // hold for their slack, and GC neither deletes nor repacks them before it ends.
        sleep(until: until2.addingTimeInterval(1))
        for id in ["p1", "p2", "p3"] { try store.deletePoint(id: id) }
        let gc2 = try store.collectGarbage()
        XCTAssertGreaterThan(gc2.packsRetained, 0, "p2's packs hold until their slack ends")
        XCTAssertEqual(gc2.packsRepacked, 0, "a retained pack is never rewritten")
        let packsUntil = try XCTUnwrap(gc2.retainedUntil)
        XCTAssertGreaterThan(packsUntil, until2)
        XCTAssertTrue(try store.verify(VerifyOptions(repair: false)).ok)
        try assertRestores(store, ordinary, half)

        // 7. After that, GC frees everything no point needs; the ordinary point still restores.
        sleep(until: packsUntil.addingTimeInterval(1))
        let gc3 = try store.collectGarbage()
        XCTAssertEqual(gc3.packsRetained, 0)
        XCTAssertEqual(gc3.objectsRetained, 0)
        XCTAssertGreaterThan(gc3.packsDeleted + gc3.packsRepacked, 0)
        try assertRestores(store, ordinary, half)
        XCTAssertTrue(try store.verify(VerifyOptions(repair: false)).ok)
        try store.deletePoint(id: "ordinary")
        _ = try store.collectGarbage()
        XCTAssertEqual(try adapter.list(prefix: "packs/").map(\.key), [])
        XCTAssertEqual(try adapter.list(prefix: "points/").map(\.key), [])
        XCTAssertEqual(try adapter.list(prefix: "index/").map(\.key), [])
        XCTAssertTrue(try store.verify(VerifyOptions(repair: false)).ok)
    }

    func testAStoreWithoutObjectLockRefusesAnImmutablePointBeforeWritingAnything() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        XCTAssertFalse(store.canKeepImmutablePoints)
        XCTAssertThrowsError(try store.beginSession(retainUntil: Date().addingTimeInterval(3600))) { error in
            XCTAssertEqual("\(error)", "store \(fixture.adapter.location) cannot keep immutable points: its storage has no object lock"
                + " (create an s3:// store with vbackup store init --object-lock)")
        }
        XCTAssertEqual(try fixture.keys("sessions/"), [], "no session was registered")

        let ordinary = try backUp(store, chunks: diskChunks(count: 4, seed: 4), pointID: "p1")
        let json = try fixture.adapter.get(ordinary.manifest.disks[0].indexKey.replacingOccurrences(of: "vda.didx", with: "manifest.json"))
        XCTAssertFalse(String(decoding: json, as: UTF8.self).contains("immutableUntil"), "ordinary manifests are unchanged")
    }

    func testARetentionDateInThePastIsRefused() throws {
        let locked = try LockedStore(self)
        XCTAssertThrowsError(try locked.store.beginSession(retainUntil: Date().addingTimeInterval(-1))) { error in
            XCTAssertTrue("\(error)".contains("that date has passed"), "\(error)")
        }
    }

    // MARK: - Helpers

    struct ImmutableBackup {
        var manifest: PointManifest
        var retentionRequests: Int
    }

    func backUpImmutable(_ store: Store, chunks: [Data], pointID: String, until: Date) throws -> ImmutableBackup {
        let session = try store.beginSession(retainUntil: until, slack: Self.slack)
        var ids: [ChunkID] = []
        for data in chunks {
            if data.withUnsafeBytes(ChunkCodec.isAllZero) { ids.append(.zero); continue }
            let chunk = encode(data, with: store.chunkCodec)
            _ = try session.add(chunk)
            ids.append(chunk.id)
        }
        let index = DiskIndex(virtualSize: UInt64(chunks.reduce(0) { $0 + $1.count }), chunkSize: store.config.chunkSize, chunks: ids)
        let vmUUID = "6f1c2d3e-0000-4000-8000-000000000001"
        let disk = try session.putDiskIndex(index, vmUUID: vmUUID, pointID: pointID, target: "vda")
        let manifest = try session.commit(sampleManifest(pointID: pointID, vmUUID: vmUUID, createdAt: Date(), disk: disk))
        return ImmutableBackup(manifest: manifest, retentionRequests: session.retentionRequests)
    }

    /// What a crashed immutable backup leaves: a retained pack and disk index, no fragment, no manifest.
    func writeCrashedBackup(_ store: Store, vmUUID: String, until: Date) throws {
        var pack = PackWriter(capacity: 0)
        var ids: [ChunkID] = []
        for data in diskChunks(count: 8, seed: 3) where !data.withUnsafeBytes(ChunkCodec.isAllZero) {
            let chunk = encode(data, with: store.chunkCodec)
            pack.append(chunk)
            ids.append(chunk.id)
        }
        let sealed = pack.seal(with: store.cipher)
        try store.put(sealed.key, data: sealed.data, retainUntil: until)
        let index = DiskIndex(virtualSize: UInt64(ids.count) << 16, chunkSize: store.config.chunkSize, chunks: ids)
        let key = StoreFormat.pointPrefix(vmUUID: vmUUID, pointID: "crashed") + "vda.didx"
        try store.put(key, data: store.sealed(index.serialized(), kind: .diskIndex), retainUntil: until)
    }

    func assertReadsBack(_ store: Store, _ manifest: PointManifest, _ chunks: [Data], file: StaticString = #filePath, line: UInt = #line) throws {
        let index = try store.readDiskIndex(manifest.disks[0])
        XCTAssertEqual(index.chunks.count, chunks.count, file: file, line: line)
        for (position, id) in index.chunks.enumerated() where !id.isZero {
            XCTAssertEqual(try store.readChunk(id), chunks[position], "chunk \(position)", file: file, line: line)
        }
    }

    func assertRetained(_ key: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), "\(key) cannot be deleted", file: file, line: line) { error in
            guard case .retained = error as? StorageError else {
                return XCTFail("\(key): expected StorageError.retained, got \(error)", file: file, line: line)
            }
        }
    }
}
