import Foundation
import LocalStorage
import StorageAdapter
import VBackupModel
@testable import VBackupStore
import XCTest

/// Removes a point's manifest the way prune does (the point vanishes; its objects stay as garbage).
func forget(_ manifest: PointManifest, in store: Store) throws {
    try store.adapter.delete(StoreFormat.manifestKey(vmUUID: manifest.vmUUID, pointID: manifest.id))
    try store.refresh()
}

/// Asserts every chunk of the point reads back as `chunks`.
func assertRestores(_ store: Store, _ result: BackupResult, _ chunks: [Data], file: StaticString = #filePath, line: UInt = #line) throws {
    let index = try store.readDiskIndex(result.manifest.disks[0])
    for (position, id) in index.chunks.enumerated() {
        let data = try store.readChunk(id)
        XCTAssertEqual(id.isZero ? Data(count: chunks[position].count) : data, chunks[position], "chunk \(position)", file: file, line: line)
    }
}

final class GarbageCollectionTests: XCTestCase {
    func testGCFreesWhatOnlyForgottenPointsUsedAndKeepsTheRest() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let old = diskChunks(count: 16, seed: 1)
        let new = Array(old.prefix(8)) + diskChunks(count: 8, seed: 2)
        let first = try backUp(store, chunks: old, pointID: "p1")
        let second = try backUp(store, chunks: new, pointID: "p2")
        let packsBefore = try fixture.keys("packs/")
        try forget(first.manifest, in: store)

        let dry = try store.collectGarbage(dryRun: true)
        XCTAssertGreaterThan(dry.packsDeleted, 0)
        XCTAssertEqual(try fixture.keys("packs/"), packsBefore, "a dry run deletes nothing")

        let report = try store.collectGarbage()
        XCTAssertEqual(report.packsDeleted, dry.packsDeleted)
        XCTAssertGreaterThan(report.bytesFreed, 0)
        XCTAssertEqual(report.objectsDeleted, 1, "the forgotten point's disk index")
        XCTAssertEqual(try fixture.keys("points/").filter { $0.contains("/p1/") }, [])
        XCTAssertEqual(try fixture.keys("gc/"), [], "the finished record is gone")
        XCTAssertEqual(try fixture.keys("locks/"), [], "the lock is released")
        try assertRestores(store, second, new)

        // Another host's catalog forgets the deleted packs on its next refresh.
        let other = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "other"))
        try assertRestores(other, second, new)
        let again = try store.collectGarbage()
        XCTAssertEqual(again.packsDeleted, 0, "nothing left to free")
    }

    func testPartlyUsedPacksAreRepackedSoTheirDeadBytesAreFreedToo() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        // Interleaved: every pack of p1 holds chunks p2 keeps and chunks only p1 had.
        let old = (0..<24).map { pseudoRandomBytes(count: 64 << 10, seed: 500 + UInt64($0)) }
        let new = old.enumerated().map { $0.offset % 2 == 0 ? $0.element : pseudoRandomBytes(count: 64 << 10, seed: 900 + UInt64($0.offset)) }
        let first = try backUp(store, chunks: old, pointID: "p1")
        let second = try backUp(store, chunks: new, pointID: "p2")
        try forget(first.manifest, in: store)
        let before = try fixture.keys("packs/").reduce(0) { $0 + (try fixture.adapter.stat($1)?.size ?? 0) }

        let report = try store.collectGarbage()
        XCTAssertGreaterThan(report.packsRepacked, 0)
        XCTAssertGreaterThan(report.bytesRepacked, 0)
        let after = try fixture.keys("packs/").reduce(0) { $0 + (try fixture.adapter.stat($1)?.size ?? 0) }
        XCTAssertLessThan(after, before * 7 / 10, "p1's 12 own chunks of 36 are gone, not only whole packs")
        try assertRestores(store, second, new)
        XCTAssertEqual(try store.collectGarbage(dryRun: true).partlyUsedPacks, 0)
        let other = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "other"))
        try assertRestores(other, second, new)
        XCTAssertTrue(try other.verify(VerifyOptions(repair: false)).ok)
    }

    func testASessionRunningWhenGCCondemnsKeepsWhatItReuses() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let chunks = diskChunks(count: 12, seed: 3)
        let first = try backUp(store, chunks: chunks, pointID: "p1")
        try forget(first.manifest, in: store)

        // A backup starts before GC condemns p1's packs, and will reuse their chunks.
        let running = try store.beginSession()
        let report = try store.collectGarbage()
        XCTAssertEqual(report.packsDeleted, 0)
        XCTAssertGreaterThan(report.packsPending, 0)
        XCTAssertEqual(report.waitingFor.count, 1)

        var ids: [ChunkID] = []
        for data in chunks {
            let chunk = encode(data)
            if data.withUnsafeBytes(ChunkCodec.isAllZero) { ids.append(.zero); continue }
            XCTAssertEqual(try running.add(chunk), 0, "deduplicated against the condemned pack")
            ids.append(chunk.id)
        }
        let index = DiskIndex(virtualSize: UInt64(chunks.count * chunks[0].count), chunkSize: store.config.chunkSize, chunks: ids)
        let disk = try running.putDiskIndex(index, vmUUID: first.manifest.vmUUID, pointID: "p2", target: "vda")
        let manifest = sampleManifest(pointID: "p2", vmUUID: first.manifest.vmUUID, disk: disk)
        try running.commit(manifest)

        // The next GC sees the session ended, re-marks, and keeps the packs p2 needs.
        let next = try store.collectGarbage()
        XCTAssertEqual(next.packsPending, 0)
        XCTAssertEqual(next.packsDeleted, 0)
        try assertRestores(store, BackupResult(manifest: manifest, index: index, bytesWritten: 0), chunks)
    }

    func testASessionStartedAfterCondemnationStoresItsOwnCopies() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let chunks = diskChunks(count: 12, seed: 4)
        let first = try backUp(store, chunks: chunks, pointID: "p1")
        try forget(first.manifest, in: store)
        let blocker = try store.beginSession()   // keeps the record pending
        _ = try store.collectGarbage()
        let condemned = try fixture.keys("packs/")

        let second = try backUp(store, chunks: chunks, pointID: "p2")
        XCTAssertGreaterThan(second.bytesWritten, 0, "condemned chunks are not reused")
        XCTAssertTrue(Set(condemned).isSubset(of: try fixture.keys("packs/")), "the same chunks in the same order got a pack of a new name")
        XCTAssertEqual(try fixture.keys("packs/").count, 2 * condemned.count)
        blocker.abort()
        let report = try store.collectGarbage()
        XCTAssertEqual(report.packsDeleted, condemned.count, "p1's packs go once the blocker ended")
        XCTAssertEqual(Set(try fixture.keys("packs/")).intersection(condemned), [])
        try assertRestores(store, second, chunks)
    }

    func testDeadSessionsNeitherBlockGCNorStay() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let first = try backUp(store, chunks: diskChunks(count: 8, seed: 5), pointID: "p1")
        try forget(first.manifest, in: store)
        // A backup on this host that was SIGKILLed: its lease names a process that is gone.
        var holder = LeaseHolder.current(id: "dead", purpose: "backup", expiresAfter: 3600)
        holder.pid = Int32.max - 1
        try fixture.adapter.put("sessions/dead.json", data: try StoreJSON.encode(holder))

        let report = try store.collectGarbage()
        XCTAssertGreaterThan(report.packsDeleted, 0)
        XCTAssertEqual(report.deadSessionsCleared, 1)
        XCTAssertEqual(try fixture.keys("sessions/"), [])
    }

    func testALiveLockRefusesASecondGCAndADeadOneIsBroken() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let lock = try store.takeMaintenanceLock(purpose: "gc")
        XCTAssertThrowsError(try store.collectGarbage()) { error in
            XCTAssertTrue("\(error)".contains("holds the store's maintenance lock"), "\(error)")
        }
        lock.release()
        var holder = LeaseHolder.current(id: "dead", purpose: "gc", expiresAfter: 3600)
        holder.pid = Int32.max - 1
        try fixture.adapter.put(Store.maintenanceLockKey, data: try StoreJSON.encode(holder))
        XCTAssertNoThrow(try store.collectGarbage())
    }

    func testGCRefusesToRunWhileAnIndexFragmentIsUnreadable() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        _ = try backUp(store, chunks: diskChunks(count: 8, seed: 6), pointID: "p1")
        let fragment = try XCTUnwrap(try fixture.keys("index/").first)
        try fixture.adapter.put(fragment, data: Data("garbage".utf8))
        let fresh = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "fresh"))
        let packs = try fixture.keys("packs/")
        XCTAssertThrowsError(try fresh.collectGarbage()) { error in
            XCTAssertTrue("\(error)".contains(fragment), "names the file: \(error)")
        }
        XCTAssertEqual(try fixture.keys("packs/"), packs, "nothing deleted")
    }

    /// Backups on several "hosts" (store instances with their own catalogs), prunes and GC
    /// runs, all at once: every point that was committed and not forgotten restores exactly.
    func testGCRacingBackupsAndPrunesNeverLosesAChunkAPointNeeds() throws {
        let fixture = try StoreFixture(self)
        let first = try makeSmallStore(self, fixture)
        let hosts = try (0..<3).map { host in
            try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "host\(host)"))
        }
        let kept = LockedResults()
        let deadline = Date().addingTimeInterval(12)
        let group = DispatchGroup()
        for (host, store) in hosts.enumerated() {
            DispatchQueue.global().async(group: group) {
                var round = 0
                var previous: BackupResult?
                while Date() < deadline {
                    // Each round shares half its chunks with the previous round (seed overlap).
                    let chunks = diskChunks(count: 8, seed: UInt64(host * 1000 + round / 2)) + diskChunks(count: 8, seed: UInt64(host * 1000 + round))
                    do {
                        let result = try backUp(store, chunks: chunks, pointID: "h\(host)r\(round)")
                        kept.add(result, chunks)
                        if let old = previous, round % 3 != 0 {
                            kept.remove(old.manifest.id)
                            try forget(old.manifest, in: store)
                        }
                        previous = result
                    } catch {
                        kept.fail("host \(host) round \(round): \(error)")
                    }
                    round += 1
                }
            }
        }
        var gcRuns = 0, freed = 0
        while Date() < deadline {
            do {
                let report = try first.collectGarbage()
                gcRuns += 1
                freed += report.packsDeleted
            } catch StoreError.locked {
                continue
            }
        }
        group.wait()
        XCTAssertEqual(kept.failures, [])
        XCTAssertGreaterThan(gcRuns, 2)
        XCTAssertGreaterThan(freed, 0, "GC did free packs during the race")
        _ = try first.collectGarbage()
        let reader = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "reader"))
        let survivors = kept.all
        XCTAssertGreaterThan(survivors.count, 3)
        for (result, chunks) in survivors { try assertRestores(reader, result, chunks) }
        let verify = try reader.verify(VerifyOptions(repair: false))
        XCTAssertTrue(verify.ok, "\(verify.damaged) \(verify.badObjects)")
    }

    /// Another host prunes a point while GC reads its disk index (prune deletes the manifest
    /// first, then the rest): GC takes the point as gone, frees what only it used, and keeps
    /// everything else. A disk index missing under a manifest that is still there is damage:
    /// GC refuses, naming it, and frees nothing.
    func testAPointPrunedWhileGCReadsItsIndexIsTakenAsGone() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        let gone = try backUp(store, chunks: diskChunks(count: 16, seed: 31), pointID: "gone")
        let keptChunks = diskChunks(count: 16, seed: 32)
        let kept = try backUp(store, chunks: keptChunks, pointID: "kept")
        let racing = PruneOnIndexRead(base: fixture.adapter, point: gone.manifest)
        let gcHost = try Store.open(adapter: racing, cacheDirectory: try makeTemporaryDirectory(self, "gc-host"))
        racing.arm()

        let report = try gcHost.collectGarbage()
        XCTAssertTrue(racing.pruned, "the other host's prune ran while GC read the index")
        XCTAssertEqual(report.points, 1)
        XCTAssertGreaterThan(report.packsDeleted, 0, "what only the pruned point used is freed")
        let reader = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "reader"))
        try assertRestores(reader, kept, keptChunks)
        XCTAssertTrue(try reader.verify(VerifyOptions(repair: false)).ok)

        let packs = try fixture.keys("packs/")
        try fixture.adapter.delete(kept.manifest.disks[0].indexKey)
        XCTAssertThrowsError(try gcHost.collectGarbage()) { error in
            XCTAssertTrue("\(error)".contains(kept.manifest.disks[0].indexKey) && "\(error)".contains("still there"), "\(error)")
        }
        XCTAssertEqual(try fixture.keys("packs/"), packs, "nothing freed while a point's index is missing")
    }
}

/// Points committed by the racing hosts and not forgotten since.
private final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [String: (BackupResult, [Data])] = [:]
    private(set) var failures: [String] = []

    func add(_ result: BackupResult, _ chunks: [Data]) { lock.withLock { results[result.manifest.id] = (result, chunks) } }
    func remove(_ id: String) { _ = lock.withLock { results.removeValue(forKey: id) } }
    func fail(_ message: String) { lock.withLock { failures.append(message) } }
    var all: [(BackupResult, [Data])] { lock.withLock { Array(results.values) } }
}

/// Storage where another host prunes `point` (manifest, then disk index) the moment its disk
/// index is first read after `arm()`.
private final class PruneOnIndexRead: StorageAdapter, @unchecked Sendable {
    let base: LocalStorageAdapter
    let manifestKey: String
    let indexKey: String
    private let lock = NSLock()
    private var armed = false
    private(set) var pruned = false

    init(base: LocalStorageAdapter, point: PointManifest) {
        self.base = base
        manifestKey = StoreFormat.manifestKey(vmUUID: point.vmUUID, pointID: point.id)
        indexKey = point.disks[0].indexKey
    }

    func arm() { lock.withLock { armed = true } }

    var location: String { base.location }
    func put(_ key: String, data: Data) throws { try base.put(key, data: data) }
    func get(_ key: String) throws -> Data {
        let pruneNow = lock.withLock {
            guard armed, !pruned, key == indexKey else { return false }
            pruned = true
            return true
        }
        if pruneNow {
            try base.delete(manifestKey)
            try base.delete(indexKey)
        }
        return try base.get(key)
    }
    func getRange(_ key: String, offset: Int, length: Int) throws -> Data { try base.getRange(key, offset: offset, length: length) }
    func list(prefix: String) throws -> [ObjectInfo] { try base.list(prefix: prefix) }
    func stat(_ key: String) throws -> ObjectInfo? { try base.stat(key) }
    func createExclusive(_ key: String, data: Data) throws -> Bool { try base.createExclusive(key, data: data) }
    func delete(_ key: String) throws { try base.delete(key) }
}
