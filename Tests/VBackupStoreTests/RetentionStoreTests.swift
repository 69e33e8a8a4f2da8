import Foundation
import LocalStorage
import StorageAdapter
import VBackupModel
import VBackupStore
import XCTest

/// Deleting points (metadata only, manifest first) and protection marks shared through the store.
final class RetentionStoreTests: XCTestCase {
    let vmUUID = "6f1c2d3e-0000-4000-8000-000000000001"

    /// Backs up `chunks` as disk `vda` with an NVRAM object, like the engine does.
    func backUpWithNVRAM(_ store: Store, chunks: [Data], pointID: String, createdAt: Date) throws -> PointManifest {
        let session = try store.beginSession()
        var ids: [ChunkID] = []
        for data in chunks {
            if data.withUnsafeBytes(ChunkCodec.isAllZero) { ids.append(.zero); continue }
            let chunk = encode(data)
            _ = try session.add(chunk)
            ids.append(chunk.id)
        }
        let index = DiskIndex(virtualSize: UInt64(chunks.reduce(0) { $0 + $1.count }), chunkSize: store.config.chunkSize, chunks: ids)
        let disk = try session.putDiskIndex(index, vmUUID: vmUUID, pointID: pointID, target: "vda")
        var manifest = sampleManifest(pointID: pointID, vmUUID: vmUUID, createdAt: createdAt, disk: disk)
        manifest.nvramKey = try session.putPointObject(Data("nvram \(pointID)".utf8), vmUUID: vmUUID, pointID: pointID, name: "nvram")
        try session.commit(manifest)
        return manifest
    }

    func assertReadsBack(_ store: Store, _ point: PointManifest, _ chunks: [Data], file: StaticString = #filePath, line: UInt = #line) throws {
        let index = try store.readDiskIndex(point.disks[0])
        XCTAssertEqual(index.chunks.count, chunks.count, file: file, line: line)
        for (position, id) in index.chunks.enumerated() {
            XCTAssertEqual(try store.readChunk(id), chunks[position], "point \(point.id) chunk \(position)", file: file, line: line)
        }
        XCTAssertEqual(try store.readPointObject(key: point.nvramKey!), Data("nvram \(point.id)".utf8), file: file, line: line)
    }

    /// Two points sharing half their chunks.
    func twoPoints(_ store: Store) throws -> (old: PointManifest, new: PointManifest, oldChunks: [Data], newChunks: [Data]) {
        let oldChunks = diskChunks(count: 16, seed: 40)
        let newChunks = Array(oldChunks.prefix(8)) + diskChunks(count: 8, seed: 41)
        let old = try backUpWithNVRAM(store, chunks: oldChunks, pointID: "p-old", createdAt: Date(timeIntervalSince1970: 1_800_000_000))
        let new = try backUpWithNVRAM(store, chunks: newChunks, pointID: "p-new", createdAt: Date(timeIntervalSince1970: 1_800_086_400))
        return (old, new, oldChunks, newChunks)
    }

    func testDeletePointRemovesItsMetadataAndLeavesOtherPointsReadable() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let (old, new, _, newChunks) = try twoPoints(store)
        let oldPrefix = "points/\(vmUUID)/p-old/"
        XCTAssertEqual(try fixture.keys(oldPrefix), [oldPrefix + "manifest.json", oldPrefix + "nvram", oldPrefix + "vda.didx"])
        let packs = try fixture.keys("packs/"), fragments = try fixture.keys("index/")

        try store.deletePoint(id: old.id)

        XCTAssertEqual(try fixture.keys(oldPrefix), [], "manifest, disk index and NVRAM are gone")
        XCTAssertFalse(FileManager.default.fileExists(atPath: fixture.storeDirectory.path + "/" + oldPrefix + "manifest.json"))
        XCTAssertEqual(try fixture.keys("packs/"), packs, "chunks stay for GC")
        XCTAssertEqual(try fixture.keys("index/"), fragments)
        XCTAssertEqual(try store.listPoints().map(\.id), [new.id], "the catalog row is gone")
        XCTAssertThrowsError(try store.point(id: old.id)) { error in
            guard case StoreError.pointNotFound(old.id) = error else { return XCTFail("\(error)") }
        }
        try assertReadsBack(store, new, newChunks)
        let otherHost = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "other-host"))
        XCTAssertEqual(try otherHost.listPoints().map(\.id), [new.id])
        try assertReadsBack(otherHost, new, newChunks)
        XCTAssertThrowsError(try store.deletePoint(id: old.id), "a second delete finds no point")
    }

    func testProtectionIsSeenByEveryHostAndBlocksDeletion() throws {
        let fixture = try StoreFixture(self)
        let hostA = try makeSmallStore(self, fixture)
        let (old, _, oldChunks, _) = try twoPoints(hostA)
        let hostB = try Store.open(adapter: try LocalStorageAdapter(root: fixture.storeDirectory, create: false),
                                   cacheDirectory: try makeTemporaryDirectory(self, "host-b"))
        XCTAssertEqual(try hostB.protectedPointIDs(), [])

        try hostA.protect(pointID: old.id)
        try hostA.protect(pointID: old.id)  // idempotent
        XCTAssertEqual(try fixture.keys("marks/"), ["marks/protected/p-old"])
        XCTAssertEqual(try hostB.protectedPointIDs(), [old.id], "host B sees host A's mark without refreshing")
        XCTAssertThrowsError(try hostB.deletePoint(id: old.id)) { error in
            XCTAssertEqual(error as? ProtectedPointError, ProtectedPointError(pointID: old.id))
            XCTAssertTrue("\(error)".contains("protected"), "\(error)")
        }
        XCTAssertThrowsError(try hostA.deletePoint(id: old.id))
        try assertReadsBack(hostB, old, oldChunks)
        XCTAssertEqual(try fixture.keys("points/\(vmUUID)/p-old/").count, 3, "nothing of the protected point was deleted")

        try hostB.unprotect(pointID: old.id)
        XCTAssertEqual(try hostA.protectedPointIDs(), [], "host A sees host B's unprotect")
        try hostA.deletePoint(id: old.id)
        XCTAssertEqual(try hostA.listPoints().map(\.id), ["p-new"])
    }

    func testProtectingAnUnknownPointFails() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        _ = try twoPoints(store)
        let operations: [(String) throws -> Void] = [store.protect(pointID:), store.unprotect(pointID:), store.deletePoint(id:)]
        for operation in operations {
            XCTAssertThrowsError(try operation("p-missing")) { error in
                guard case StoreError.pointNotFound("p-missing") = error else { return XCTFail("\(error)") }
            }
        }
        XCTAssertEqual(try fixture.keys("marks/"), [])
        XCTAssertThrowsError(try store.protect(pointID: "../escape"), "ids become key segments")
    }

    func testUnprotectClearsAStaleMarkWhosePointIsGone() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        _ = try twoPoints(store)
        try fixture.adapter.put("marks/protected/p-gone", data: Data("{}".utf8))
        XCTAssertEqual(try store.protectedPointIDs(), ["p-gone"])
        try store.unprotect(pointID: "p-gone")
        XCTAssertEqual(try store.protectedPointIDs(), [])
    }

    /// A crash at any step of `deletePoint` leaves the point whole or gone, never half there:
    /// the adapter fails the n-th delete, for every n.
    func testDeleteInterruptedAtAnyStepLeavesThePointWholeOrGone() throws {
        for failingDelete in 0...2 {  // manifest, then nvram and vda.didx
            let fixture = try StoreFixture(self)
            let store = try makeSmallStore(self, fixture)
            let (old, new, oldChunks, newChunks) = try twoPoints(store)
            let failing = FailingDeletes(base: fixture.adapter, failAt: failingDelete)
            let crashing = try Store.open(adapter: failing, cacheDirectory: try makeTemporaryDirectory(self, "crash-\(failingDelete)"))
            XCTAssertThrowsError(try crashing.deletePoint(id: old.id), "delete \(failingDelete) fails")

            let after = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "after-\(failingDelete)"))
            let ids = try after.listPoints().map(\.id)
            if ids.contains(old.id) { try assertReadsBack(after, old, oldChunks) }  // whole, or not listed at all
            if failingDelete == 0 {
                XCTAssertEqual(ids, [old.id, new.id], "the manifest delete failed: the point is whole")
            } else {
                XCTAssertEqual(ids, [new.id], "the manifest went first: the point is gone")
                try crashing.refresh()
                XCTAssertEqual(try crashing.listPoints().map(\.id), [new.id], "refresh forgets it on the crashed host too")
            }
            try assertReadsBack(after, new, newChunks)
        }
    }
}

/// An adapter whose `failAt`-th delete (0-based) fails, as a crash at that moment would.
struct FailingDeletes: StorageAdapter {
    let base: LocalStorageAdapter
    let failAt: Int
    private let counter = Counter()

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.withLock { defer { value += 1 }; return value } }
    }

    init(base: LocalStorageAdapter, failAt: Int) {
        self.base = base
        self.failAt = failAt
    }

    var location: String { base.location }
    func put(_ key: String, data: Data) throws { try base.put(key, data: data) }
    func get(_ key: String) throws -> Data { try base.get(key) }
    func getRange(_ key: String, offset: Int, length: Int) throws -> Data { try base.getRange(key, offset: offset, length: length) }
    func list(prefix: String) throws -> [ObjectInfo] { try base.list(prefix: prefix) }
    func stat(_ key: String) throws -> ObjectInfo? { try base.stat(key) }
    func createExclusive(_ key: String, data: Data) throws -> Bool { try base.createExclusive(key, data: data) }
    func delete(_ key: String) throws {
        if counter.next() == failAt { throw StorageError.io(key: key, message: "simulated crash") }
        try base.delete(key)
    }
}
