import Foundation
import LocalStorage
import StorageAdapter
import VBackupModel
import VBackupStore
import XCTest

/// What one simulated backup wrote.
struct BackupResult {
    let manifest: PointManifest
    let index: DiskIndex
    let bytesWritten: Int
}

/// Backs up `chunks` as one disk the way the engine does: zero chunks become `ChunkID.zero`,
/// the rest are encoded, added, indexed, and the manifest is committed last.
func backUp(_ store: Store, chunks: [Data], pointID: String, createdAt: Date = Date(timeIntervalSince1970: 1_800_000_000)) throws -> BackupResult {
    let session = try store.beginSession()
    var ids: [ChunkID] = []
    var written = 0
    for data in chunks {
        if data.withUnsafeBytes(ChunkCodec.isAllZero) {
            ids.append(.zero)
            continue
        }
        let chunk = encode(data, with: store.chunkCodec)
        written += try session.add(chunk)
        ids.append(chunk.id)
    }
    let index = DiskIndex(virtualSize: UInt64(chunks.reduce(0) { $0 + $1.count }), chunkSize: store.config.chunkSize, chunks: ids)
    let vmUUID = "6f1c2d3e-0000-4000-8000-000000000001"
    let disk = try session.putDiskIndex(index, vmUUID: vmUUID, pointID: pointID, target: "vda")
    let manifest = sampleManifest(pointID: pointID, vmUUID: vmUUID, createdAt: createdAt, disk: disk)
    try session.commit(manifest)
    return BackupResult(manifest: manifest, index: index, bytesWritten: written)
}

/// Small geometry so that a handful of chunks fills several packs.
func makeSmallStore(_ test: XCTestCase, _ fixture: StoreFixture, cache: String = "cache") throws -> Store {
    try Store.create(
        adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(test, cache),
        chunkSize: 64 << 10, packSize: 256 << 10)
}

func diskChunks(count: Int, seed: UInt64) -> [Data] {
    (0..<count).map { index in
        switch index % 4 {
        case 0: return Data(count: 64 << 10)  // all zero
        case 1: return compressibleBytes(count: 64 << 10, seed: Int(seed) * 1000 + index)
        default: return pseudoRandomBytes(count: 64 << 10, seed: seed * 1000 + UInt64(index))
        }
    }
}

final class WriteSessionTests: XCTestCase {
    func testCommittedPointIsListedAndReadsBackBitExact() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let chunks = diskChunks(count: 20, seed: 1)
        let pointID = Store.newPointID(at: Date(timeIntervalSince1970: 1_800_000_000))
        let result = try backUp(store, chunks: chunks, pointID: pointID)

        XCTAssertEqual(try store.listPoints(), [result.manifest])
        XCTAssertEqual(try store.listPoints(vm: "web1"), [result.manifest])
        XCTAssertEqual(try store.listPoints(vm: result.manifest.vmUUID), [result.manifest])
        XCTAssertEqual(try store.listPoints(vm: "other"), [])
        XCTAssertEqual(try store.point(id: pointID), result.manifest)
        XCTAssertEqual(try store.latestPoint(vmUUID: result.manifest.vmUUID), result.manifest)

        let index = try store.readDiskIndex(result.manifest.disks[0])
        XCTAssertEqual(index, result.index)
        for (position, id) in index.chunks.enumerated() {
            let data = try store.readChunk(id)
            XCTAssertEqual(data, chunks[position], "chunk \(position)")
        }
        XCTAssertEqual(index.chunks.filter(\.isZero).count, 5, "zero chunks are markers, never stored")
    }

    func testManifestIsWrittenAsSortedJSONUnderThePointPrefix() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let result = try backUp(store, chunks: diskChunks(count: 4, seed: 2), pointID: "20270115T000000Z-abcdef")
        let key = "points/\(result.manifest.vmUUID)/20270115T000000Z-abcdef/manifest.json"
        let json = String(decoding: try fixture.adapter.get(key), as: UTF8.self)
        XCTAssertTrue(json.contains("\"createdAt\" : \"2027-01-15T08:00:00"), json)
        XCTAssertLessThan(json.range(of: "\"consistency\"")!.lowerBound, json.range(of: "\"disks\"")!.lowerBound)
        XCTAssertEqual(result.manifest.disks[0].indexKey, "points/\(result.manifest.vmUUID)/20270115T000000Z-abcdef/vda.didx")
    }

    func testPacksHoldManyChunks() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let chunks = (0..<60).map { pseudoRandomBytes(count: 64 << 10, seed: 100 + UInt64($0)) }
        _ = try backUp(store, chunks: chunks, pointID: "p1")
        let packs = try fixture.keys("packs/")
        XCTAssertEqual(packs.count, 15, "60 incompressible 64 KiB chunks in 256 KiB packs: 4 per pack")
        XCTAssertTrue(packs.allSatisfy { $0.hasSuffix(".pack") && $0.split(separator: "/").count == 3 })
        XCTAssertEqual(try fixture.keys("index/").count, 1, "one index fragment per session")
    }

    func testSecondSessionDeduplicatesAgainstTheFirst() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let chunks = diskChunks(count: 12, seed: 3)
        let first = try backUp(store, chunks: chunks, pointID: "p1")
        XCTAssertGreaterThan(first.bytesWritten, 0)
        let packsBefore = try fixture.keys("packs/")

        let second = try backUp(store, chunks: chunks, pointID: "p2", createdAt: Date(timeIntervalSince1970: 1_800_000_100))
        XCTAssertEqual(second.bytesWritten, 0, "every chunk was already stored")
        XCTAssertEqual(try fixture.keys("packs/"), packsBefore, "no new pack")
        XCTAssertEqual(try store.listPoints().map(\.id), ["p1", "p2"])
        XCTAssertEqual(try store.latestPoint(vmUUID: first.manifest.vmUUID)?.id, "p2")
    }

    func testDuplicatesWithinASessionAreWrittenOnce() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let session = try store.beginSession()
        let chunk = encode(pseudoRandomBytes(count: 1000, seed: 4))
        XCTAssertFalse(try session.contains(chunk.id))
        XCTAssertEqual(try session.add(chunk), chunk.blob.count)
        XCTAssertTrue(try session.contains(chunk.id))
        XCTAssertEqual(try session.add(chunk), 0)
        XCTAssertFalse(try store.hasChunk(chunk.id), "not offered for dedup before its fragment is durable")
        try session.commit(sampleManifest(pointID: "p1"))
        XCTAssertTrue(try store.hasChunk(chunk.id))
        XCTAssertEqual(try store.readChunk(chunk.id), pseudoRandomBytes(count: 1000, seed: 4))
    }

    func testConcurrentAddsStoreEveryChunkExactlyOnce() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let chunks = (0..<64).map { pseudoRandomBytes(count: 32 << 10, seed: 500 + UInt64($0 % 48)) }
        let encoded = chunks.map(encode)
        let session = try store.beginSession()
        let total = Counter()
        DispatchQueue.concurrentPerform(iterations: encoded.count) { index in
            let written = (try? session.add(encoded[index])) ?? -1_000_000
            total.increment(by: written)
        }
        XCTAssertEqual(total.value, Set(encoded.map(\.id)).count * encoded[0].blob.count, "48 distinct chunks, each written once")
        try session.commit(sampleManifest(pointID: "p1"))
        for (index, chunk) in encoded.enumerated() {
            XCTAssertEqual(try store.readChunk(chunk.id), chunks[index])
        }
    }

    func testMissingChunkAndPointAreReportedAsSuch() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let id = encode(Data("never stored".utf8)).id
        XCTAssertThrowsError(try store.readChunk(id)) { error in
            guard case StoreError.chunkMissing(id) = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try store.point(id: "nope")) { error in
            guard case StoreError.pointNotFound("nope") = error else { return XCTFail("\(error)") }
        }
        XCTAssertNil(try store.latestPoint(vmUUID: "nope"))
        XCTAssertEqual(try store.readChunk(.zero), Data(count: 64 << 10))
    }

    func testPointObjectsRoundTripAndNamesAreValidated() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let session = try store.beginSession()
        let key = try session.putPointObject(Data("nvram".utf8), vmUUID: "vm-1", pointID: "p1", name: "nvram")
        XCTAssertEqual(key, "points/vm-1/p1/nvram")
        XCTAssertEqual(try store.readPointObject(key: key), Data("nvram".utf8))
        XCTAssertThrowsError(try session.putPointObject(Data(), vmUUID: "../x", pointID: "p1", name: "n"))
        XCTAssertThrowsError(try session.putPointObject(Data(), vmUUID: "vm-1", pointID: "p1", name: "a/b"))
        XCTAssertThrowsError(try session.putPointObject(Data(), vmUUID: "vm-1", pointID: "p1", name: "manifest.json"))
    }
}
