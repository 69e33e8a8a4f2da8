import Foundation
import LocalStorage
import StorageAdapter
import VBackupModel
@testable import VBackupStore
import XCTest

/// Counts whole-object reads of packs.
final class CountingAdapter: StorageAdapter, @unchecked Sendable {
    let inner: any StorageAdapter
    private let lock = NSLock()
    private(set) var packGets = 0
    init(_ inner: any StorageAdapter) { self.inner = inner }
    var location: String { inner.location }
    func put(_ key: String, data: Data) throws { try inner.put(key, data: data) }
    func get(_ key: String) throws -> Data {
        if key.hasPrefix("packs/") { lock.withLock { packGets += 1 } }
        return try inner.get(key)
    }
    func getRange(_ key: String, offset: Int, length: Int) throws -> Data { try inner.getRange(key, offset: offset, length: length) }
    func list(prefix: String) throws -> [ObjectInfo] { try inner.list(prefix: prefix) }
    func stat(_ key: String) throws -> ObjectInfo? { try inner.stat(key) }
    func delete(_ key: String) throws { try inner.delete(key) }
    func createExclusive(_ key: String, data: Data) throws -> Bool { try inner.createExclusive(key, data: data) }
}

final class VerifyTests: XCTestCase {
    func testAHealthyStoreVerifiesAndEachPackIsReadOnceHoweverManyPointsShareIt() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let chunks = diskChunks(count: 16, seed: 1)
        for round in 0..<20 { _ = try backUp(store, chunks: chunks, pointID: "p\(round)") }
        let counting = CountingAdapter(fixture.adapter)
        let reader = try Store.open(adapter: counting, cacheDirectory: try makeTemporaryDirectory(self, "reader"))

        let report = try reader.verify()
        XCTAssertTrue(report.ok)
        XCTAssertEqual(report.pointsChecked, 20)
        XCTAssertEqual(report.packsChecked, try fixture.keys("packs/").count)
        XCTAssertEqual(counting.packGets, report.packsChecked, "20 points of the same data: each pack read once")
        XCTAssertEqual(report.chunksChecked, 12, "the non-zero chunks, once each")
        XCTAssertGreaterThan(report.bytesRead, 0)
    }

    func testAFlippedByteIsFoundNamedMovedAsideAndHealedByTheNextBackup() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let chunks = diskChunks(count: 16, seed: 2)
        let first = try backUp(store, chunks: chunks, pointID: "p1")
        let index = first.index
        let victim = index.chunks[2]
        let location = try XCTUnwrap(try store.catalog.locations(of: victim).first)
        let packKey = StoreFormat.packKey(location.pack)
        try flipByte(fixture, packKey) { _ in Int(location.offset) + 100 }

        let report = try store.verify()
        XCTAssertFalse(report.ok)
        XCTAssertEqual(report.damaged.map(\.pointID), ["p1"])
        let damage = try XCTUnwrap(report.damaged.first?.chunks)
        XCTAssertEqual(damage.map(\.id), [victim.hex])
        XCTAssertEqual(damage.first?.disk, "vda")
        XCTAssertEqual(damage.first?.ranges, [ByteRange(offset: 2 * 65536, length: 65536)])
        XCTAssertEqual(report.badObjects.map(\.key), [packKey])
        XCTAssertEqual(report.badObjects.first?.movedTo, "quarantine/" + packKey)
        XCTAssertEqual(try fixture.keys("quarantine/"), ["quarantine/" + packKey], "evidence kept")
        XCTAssertNil(try fixture.adapter.stat(packKey))
        XCTAssertEqual(try store.damagedPointIDs(), ["p1"])

        // The pack's intact chunks were copied before it moved aside; only the victim is lost.
        for (position, id) in index.chunks.enumerated() where id != victim {
            XCTAssertEqual(id.isZero ? chunks[position] : try store.readChunk(id), chunks[position])
        }
        XCTAssertFalse(try store.hasChunk(victim))

        // The next backup of the same data stores the lost chunk again: p1 is healed.
        let second = try backUp(store, chunks: chunks, pointID: "p2")
        XCTAssertGreaterThan(second.bytesWritten, 0)
        let after = try store.verify()
        XCTAssertTrue(after.ok, "\(after.damaged)")
        XCTAssertEqual(after.healed, ["p1"])
        XCTAssertEqual(try store.damagedPointIDs(), [])
        try assertRestores(store, first, chunks)
    }

    func testAMissingPackDamagesThePointsThatNeedIt() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let result = try backUp(store, chunks: diskChunks(count: 16, seed: 3), pointID: "p1")
        let pack = try XCTUnwrap(try fixture.keys("packs/").first)
        try fixture.adapter.delete(pack)
        let report = try store.verify()
        XCTAssertEqual(report.damaged.map(\.pointID), ["p1"])
        XCTAssertGreaterThan(report.damaged[0].chunks.count, 0)
        XCTAssertTrue(report.badObjects.contains { $0.key == pack && $0.reason == "missing" })
        for chunk in report.damaged[0].chunks {
            XCTAssertFalse(try store.hasChunk(XCTUnwrap(ChunkID(hex: chunk.id))), "no host offers it for dedup again")
        }
        XCTAssertEqual(Set(report.damaged[0].chunks.map(\.disk)), [result.manifest.disks[0].target], "the ranges name the point's disk")
    }

    func testSamplingReadsAShareOfThePacksButStillChecksThatEveryChunkExists() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        _ = try backUp(store, chunks: diskChunks(count: 64, seed: 4), pointID: "p1")
        let packs = try fixture.keys("packs/").count
        let report = try store.verify(VerifyOptions(samplePercent: 25, repair: false))
        XCTAssertTrue(report.ok)
        XCTAssertEqual(report.packsChecked + report.packsSkipped, packs)
        XCTAssertEqual(report.packsChecked, Int((Double(packs) * 0.25).rounded(.up)))

        try fixture.adapter.delete(try XCTUnwrap(try fixture.keys("packs/").last))
        let sampled = try store.verify(VerifyOptions(samplePercent: 1, repair: false))
        XCTAssertFalse(sampled.ok, "a missing pack is found without reading it")
    }

    func testSelectingPointsBySinceAndIDs() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let now = Date()
        _ = try backUp(store, chunks: diskChunks(count: 4, seed: 5), pointID: "old", createdAt: now.addingTimeInterval(-10 * 86400))
        _ = try backUp(store, chunks: diskChunks(count: 4, seed: 6), pointID: "new", createdAt: now.addingTimeInterval(-3600))
        XCTAssertEqual(try store.verify(VerifyOptions(since: now.addingTimeInterval(-86400))).pointsChecked, 1)
        XCTAssertEqual(try store.verify(VerifyOptions(pointIDs: ["old"])).pointsChecked, 1)
        XCTAssertThrowsError(try store.verify(VerifyOptions(pointIDs: ["nope"]))) { error in
            guard case StoreError.pointNotFound("nope") = error else { return XCTFail("\(error)") }
        }
    }

    func testAGarbageFragmentIsMovedAsideAndTheIndexRebuiltFromPackTrailers() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let chunks = diskChunks(count: 16, seed: 7)
        let result = try backUp(store, chunks: chunks, pointID: "p1")
        let fragment = try XCTUnwrap(try fixture.keys("index/").first)
        try fixture.adapter.put(fragment, data: Data(try fixture.adapter.get(fragment).prefix(20)))  // truncated

        let host = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "host"))
        XCTAssertEqual(try host.unreadableObjects().keys.sorted(), [fragment], "opening still works and names the file")
        let report = try host.verify()
        XCTAssertTrue(report.badObjects.contains { $0.key == fragment && $0.movedTo == "quarantine/" + fragment })
        XCTAssertEqual(try host.unreadableObjects(), [:])
        let after = try host.verify()
        XCTAssertTrue(after.ok, "\(after)")
        try assertRestores(host, result, chunks)
    }

    func testAGarbageManifestGivesAnErrorNamingTheFileNotACrash() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let result = try backUp(store, chunks: diskChunks(count: 4, seed: 8), pointID: "p1")
        _ = try backUp(store, chunks: diskChunks(count: 4, seed: 9), pointID: "p2")
        let key = StoreFormat.manifestKey(vmUUID: result.manifest.vmUUID, pointID: "p1")
        try fixture.adapter.put(key, data: Data("{\"id\": \"p1\", \"vmName\": ".utf8))

        let host = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "host"))
        XCTAssertEqual(try host.listPoints().map(\.id), ["p2"])
        XCTAssertThrowsError(try host.point(id: "p1")) { error in
            XCTAssertTrue("\(error)".contains(key), "\(error)")
        }
        let report = try host.verify()
        XCTAssertEqual(report.badObjects.first?.key, key)
        XCTAssertEqual(report.badObjects.first?.movedTo, "quarantine/" + key)
    }

    func testInAnEncryptedStoreVerifyChecksTagsAndGCRepacksSealedBlobs() throws {
        let fixture = try StoreFixture(self)
        let store = try makeEncryptedStore(self, fixture)
        let old = (0..<16).map { pseudoRandomBytes(count: 64 << 10, seed: 700 + UInt64($0)) }
        let new = old.enumerated().map { $0.offset % 2 == 0 ? $0.element : compressibleBytes(count: 64 << 10, seed: 800 + $0.offset) }
        let first = try backUp(store, chunks: old, pointID: "p1")
        let second = try backUp(store, chunks: new, pointID: "p2")
        XCTAssertTrue(try store.verify().ok)

        try forget(first.manifest, in: store)
        let gc = try store.collectGarbage()
        XCTAssertGreaterThan(gc.packsRepacked + gc.packsDeleted, 0)
        try assertRestores(store, second, new)

        let victim = try XCTUnwrap(second.index.chunks.first { !$0.isZero })
        let location = try XCTUnwrap(try store.catalog.locations(of: victim).first)
        try flipByte(fixture, StoreFormat.packKey(location.pack)) { _ in Int(location.offset) + 20 }
        let report = try store.verify()
        XCTAssertEqual(report.damaged.map(\.pointID), ["p2"])
        XCTAssertEqual(report.damaged.first?.chunks.map(\.id), [victim.hex])
        XCTAssertTrue(report.damaged.first?.chunks.first?.reason.contains("authentication") ?? false, "\(report.damaged)")
        _ = try backUp(store, chunks: new, pointID: "p3")
        XCTAssertEqual(try store.verify().healed, ["p2"])
        try assertRestores(store, second, new)
    }
}
