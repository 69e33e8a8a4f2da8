import Foundation
import LocalStorage
import StorageAdapter
import VBackupModel
import VBackupStore
import XCTest

/// `PointCopier`: points copied between real local stores, plain and encrypted, read back
/// bit-exact from the target; what is sent, what is skipped, what resumes.
final class PointCopierTests: XCTestCase {
    let vmUUID = "6f1c2d3e-0000-4000-8000-0000000000c0"

    // MARK: - Fixtures

    /// A plain or encrypted store with the small geometry (64 KiB chunks, 256 KiB packs).
    func makeStore(encrypted: Bool) throws -> (store: Store, fixture: StoreFixture) {
        let fixture = try StoreFixture(self)
        let store = encrypted ? try makeEncryptedStore(self, fixture) : try makeSmallStore(self, fixture)
        return (store, fixture)
    }

    /// Backs up `chunks` as disk `vda` plus an NVRAM object, the way the engine does.
    @discardableResult
    func backUpPoint(_ store: Store, _ chunks: [Data], id: String, at seconds: TimeInterval = 0) throws -> PointManifest {
        let session = try store.beginSession()
        var ids: [ChunkID] = []
        for data in chunks {
            if data.withUnsafeBytes(ChunkCodec.isAllZero) {
                ids.append(.zero)
                continue
            }
            let chunk = encode(data, with: store.chunkCodec)
            _ = try session.add(chunk)
            ids.append(chunk.id)
        }
        let index = DiskIndex(virtualSize: UInt64(chunks.reduce(0) { $0 + $1.count }), chunkSize: store.config.chunkSize, chunks: ids)
        let disk = try session.putDiskIndex(index, vmUUID: vmUUID, pointID: id, target: "vda")
        var manifest = sampleManifest(pointID: id, vmUUID: vmUUID, createdAt: Date(timeIntervalSince1970: 1_800_000_000 + seconds), disk: disk)
        manifest.nvramKey = try session.putPointObject(Data("nvram of \(id)".utf8), vmUUID: vmUUID, pointID: id, name: "nvram")
        try session.commit(manifest)
        return manifest
    }

    /// `chunks` with `count` of its non-zero chunks replaced by new data (a later backup).
    func changed(_ chunks: [Data], count: Int, seed: UInt64) -> [Data] {
        var result = chunks
        var left = count
        for position in result.indices where left > 0 && position % 4 != 0 {
            result[position] = pseudoRandomBytes(count: result[position].count, seed: seed * 7919 + UInt64(position))
            left -= 1
        }
        return result
    }

    func copyAll(_ source: Store, _ target: Store, _ options: CopyOptions = CopyOptions()) throws -> CopyReport {
        try PointCopier(from: source, to: target, options: options).copy(source.listPoints())
    }

    /// The target's point restores to exactly `chunks`, with the source's NVRAM.
    func assertRestores(_ target: Store, pointID: String, to chunks: [Data], file: StaticString = #filePath, line: UInt = #line) throws {
        let point = try target.point(id: pointID)
        let index = try target.readDiskIndex(point.disks[0])
        XCTAssertEqual(index.chunks.count, chunks.count, file: file, line: line)
        for (position, id) in index.chunks.enumerated() {
            XCTAssertEqual(try target.readChunk(id), chunks[position], "chunk \(position)", file: file, line: line)
        }
        XCTAssertEqual(try target.readPointObject(key: XCTUnwrap(point.nvramKey)), Data("nvram of \(pointID)".utf8), file: file, line: line)
    }

    func nonZero(_ chunks: [Data]) -> Int {
        Set(chunks.filter { !$0.withUnsafeBytes(ChunkCodec.isAllZero) }).count
    }

    // MARK: - Copies read back bit-exact

    func testPlainToPlainRestoresIdenticalBytesAndASecondCopySendsNothing() throws {
        let (source, _) = try makeStore(encrypted: false)
        let (target, targetFixture) = try makeStore(encrypted: false)
        let first = diskChunks(count: 40, seed: 1)
        let second = changed(first, count: 5, seed: 2)
        try backUpPoint(source, first, id: "p1", at: 0)
        try backUpPoint(source, second, id: "p2", at: 3600)

        let report = try copyAll(source, target)
        XCTAssertEqual(report.copied.map(\.id), ["p1", "p2"])
        XCTAssertEqual(report.chunksSent, nonZero(first + second), "each distinct chunk once")
        XCTAssertEqual(report.zeroChunks, 20, "10 zero chunks per point, never read or sent")
        XCTAssertTrue(report.ok)
        try assertRestores(target, pointID: "p1", to: first)
        try assertRestores(target, pointID: "p2", to: second)
        XCTAssertEqual(try target.point(id: "p2").disks[0].indexDigest, try source.point(id: "p2").disks[0].indexDigest,
                       "plain to plain: the same ids, so the same disk index")
        XCTAssertTrue(try target.verify().ok)

        let packsBefore = try targetFixture.keys("packs/")
        let again = try copyAll(source, target)
        XCTAssertEqual(again.alreadyThere.map(\.id), ["p1", "p2"])
        XCTAssertEqual(again.copied, [])
        XCTAssertEqual(again.chunksSent, 0)
        XCTAssertEqual(again.bytesSent, 0)
        XCTAssertEqual(again.bytesRead, 0)
        XCTAssertEqual(try targetFixture.keys("packs/"), packsBefore)
    }

    func testPlainToEncryptedRenamesChunksAndSealsEverything() throws {
        let (source, _) = try makeStore(encrypted: false)
        let (target, targetFixture) = try makeStore(encrypted: true)
        let chunks = diskChunks(count: 24, seed: 3)
        let point = try backUpPoint(source, chunks, id: "p1")

        let report = try copyAll(source, target)
        XCTAssertEqual(report.copied.map(\.id), ["p1"])
        XCTAssertEqual(report.chunksSent, nonZero(chunks))
        try assertRestores(target, pointID: "p1", to: chunks)
        let sourceIDs = Set(try source.readDiskIndex(point.disks[0]).chunks.filter { !$0.isZero })
        let targetIDs = Set(try target.readDiskIndex(target.point(id: "p1").disks[0]).chunks.filter { !$0.isZero })
        XCTAssertTrue(sourceIDs.isDisjoint(with: targetIDs), "the target names chunks by its own HMAC")
        let manifestBytes = try targetFixture.adapter.get("points/\(vmUUID)/p1/manifest.json")
        XCTAssertNil(String(data: manifestBytes, encoding: .utf8)?.range(of: "web1"), "the manifest is sealed")
        let nvramBytes = try targetFixture.adapter.get("points/\(vmUUID)/p1/nvram")
        XCTAssertNotEqual(nvramBytes, Data("nvram of p1".utf8), "the NVRAM is sealed")
        XCTAssertTrue(try target.verify().ok)

        // A fresh process opening the target sees the point too (nothing lives only in a catalog).
        let reopened = try Store.open(adapter: targetFixture.adapter, cacheDirectory: makeTemporaryDirectory(self, "fresh"), keys: keys())
        try assertRestores(reopened, pointID: "p1", to: chunks)
    }

    func testEncryptedToPlainRestoresIdenticalBytes() throws {
        let (source, _) = try makeStore(encrypted: true)
        let (target, _) = try makeStore(encrypted: false)
        let chunks = diskChunks(count: 24, seed: 4)
        try backUpPoint(source, chunks, id: "p1")

        let report = try copyAll(source, target)
        XCTAssertEqual(report.copied.map(\.id), ["p1"])
        try assertRestores(target, pointID: "p1", to: chunks)
        let ids = try target.readDiskIndex(target.point(id: "p1").disks[0]).chunks
        for (position, id) in ids.enumerated() where !id.isZero {
            XCTAssertEqual(id, encode(chunks[position]).id, "a plain target names chunks by SHA-256")
        }
        XCTAssertTrue(try target.verify().ok)
    }

    // MARK: - Only the difference is sent

    func testATargetWithASimilarPointReceivesOnlyTheDifference() throws {
        for encryptedTarget in [false, true] {
            let (source, _) = try makeStore(encrypted: false)
            let (target, _) = try makeStore(encrypted: encryptedTarget)
            let base = diskChunks(count: 40, seed: 5)
            let next = changed(base, count: 4, seed: 6)
            try backUpPoint(source, base, id: "p1", at: 0)
            _ = try PointCopier(from: source, to: target).copy([source.point(id: "p1")])
            try backUpPoint(source, next, id: "p2", at: 3600)

            let report = try copyAll(source, target)
            XCTAssertEqual(report.alreadyThere.map(\.id), ["p1"])
            XCTAssertEqual(report.copied.map(\.id), ["p2"])
            XCTAssertEqual(report.chunksSent, 4, "encrypted target \(encryptedTarget): only the 4 changed chunks")
            XCTAssertEqual(report.chunksDeduplicated, nonZero(next) - 4)
            let blobBytes = 4 * (64 << 10) + 4 * 64
            XCTAssertLessThan(report.bytesRead, blobBytes + 1024,
                              "encrypted target \(encryptedTarget): the copied twin names the rest, so only changed chunks are read")
            try assertRestores(target, pointID: "p2", to: next)
        }
    }

    func testEncryptedToEncryptedTranslatesThroughTheTwinPoint() throws {
        let (source, _) = try makeStore(encrypted: true)
        let (target, _) = try makeStore(encrypted: true)
        let base = diskChunks(count: 32, seed: 7)
        try backUpPoint(source, base, id: "p1", at: 0)
        _ = try copyAll(source, target)
        let next = changed(base, count: 3, seed: 8)
        try backUpPoint(source, next, id: "p2", at: 60)

        // A new copier, as a nightly run in a new process: the translation comes from p1's twin.
        let report = try PointCopier(from: source, to: target).copy([source.point(id: "p2")])
        XCTAssertEqual(report.chunksSent, 3)
        XCTAssertLessThan(report.bytesRead, 3 * ((64 << 10) + 64) + 1024)
        try assertRestores(target, pointID: "p2", to: next)
        XCTAssertTrue(try target.verify().ok)
    }

    // MARK: - Refusals

    func testAPointMarkedDamagedInTheSourceIsRefusedAndNeverCopied() throws {
        let (source, sourceFixture) = try makeStore(encrypted: false)
        let (target, targetFixture) = try makeStore(encrypted: false)
        let good = diskChunks(count: 8, seed: 9)
        let bad = diskChunks(count: 8, seed: 10)
        try backUpPoint(source, good, id: "good")
        let damaged = try backUpPoint(source, bad, id: "bad", at: 60)
        let victim = try source.readDiskIndex(damaged.disks[0]).chunks[2]
        let pack = try XCTUnwrap(sourceFixture.keys("packs/").first { key in
            (try? sourceFixture.adapter.get(key))?.range(of: Data(encode(bad[2]).blob.suffix(64))) != nil
        })
        try flipByte(sourceFixture, pack) { $0.count / 2 }
        XCTAssertFalse(try source.verify().ok)
        XCTAssertTrue(try source.damagedPointIDs().contains("bad"), "verify marked chunk \(victim)'s point")

        let report = try copyAll(source, target)
        XCTAssertEqual(report.refused.map(\.id), ["bad"])
        XCTAssertTrue(report.refused[0].reason.contains("damaged"), report.refused[0].reason)
        XCTAssertFalse(report.ok)
        XCTAssertEqual(try targetFixture.keys("points/\(vmUUID)/bad/"), [])
        XCTAssertThrowsError(try target.point(id: "bad"))
        XCTAssertEqual(try target.damagedPointIDs(), [], "damage marks are not copied")
    }

    func testCopyingAStoreOntoItselfOrAcrossChunkSizesIsRefusedBeforeAnythingIsWritten() throws {
        let (source, fixture) = try makeStore(encrypted: false)
        XCTAssertThrowsError(try PointCopier(from: source, to: source)) { error in
            XCTAssertEqual(error as? CopyError, .sameStore(fixture.adapter.location))
        }
        let otherFixture = try StoreFixture(self)
        let bigChunks = try Store.create(
            adapter: otherFixture.adapter, cacheDirectory: makeTemporaryDirectory(self, "big"), chunkSize: 128 << 10, packSize: 256 << 10)
        XCTAssertThrowsError(try PointCopier(from: source, to: bigChunks)) { error in
            XCTAssertEqual(error as? CopyError, .chunkSizeMismatch(source: 64 << 10, target: 128 << 10))
        }
        XCTAssertEqual(try otherFixture.keys(), ["config.json"])
    }

    func testSelectionNamesVMsAndPointsAndRefusesUnknownOnes() throws {
        let (source, _) = try makeStore(encrypted: false)
        try backUpPoint(source, diskChunks(count: 4, seed: 11), id: "p1")
        try backUpPoint(source, diskChunks(count: 4, seed: 12), id: "p2", at: 60)
        XCTAssertEqual(try PointCopier.select(in: source, vms: [], pointIDs: []).map(\.id), ["p1", "p2"])
        XCTAssertEqual(try PointCopier.select(in: source, vms: ["web1"], pointIDs: ["p2"]).map(\.id), ["p2"])
        XCTAssertThrowsError(try PointCopier.select(in: source, vms: ["nope"], pointIDs: [])) { error in
            XCTAssertEqual(error as? CopyError, .noPoints(vm: "nope"))
        }
        XCTAssertThrowsError(try PointCopier.select(in: source, vms: [], pointIDs: ["p2", "p9"])) { error in
            XCTAssertEqual(error as? CopyError, .unknownPoints(["p9"]))
        }
    }

    func testAnUnmarkedCorruptSourceChunkFailsItsPointOnlyAndIsNeverSent() throws {
        let (source, sourceFixture) = try makeStore(encrypted: false)
        let (target, targetFixture) = try makeStore(encrypted: false)
        let good = diskChunks(count: 8, seed: 21)
        let rotten = diskChunks(count: 8, seed: 22)
        try backUpPoint(source, good, id: "good")
        try backUpPoint(source, rotten, id: "rotten", at: 60)
        let pack = try XCTUnwrap(sourceFixture.keys("packs/").first { key in
            (try? sourceFixture.adapter.get(key))?.range(of: Data(encode(rotten[2]).blob.suffix(64))) != nil
        })
        let blob = try XCTUnwrap(try sourceFixture.adapter.get(pack).range(of: Data(encode(rotten[2]).blob.suffix(64))))
        try flipByte(sourceFixture, pack) { _ in blob.lowerBound }

        let report = try copyAll(source, target)
        XCTAssertEqual(report.copied.map(\.id), ["good"])
        XCTAssertEqual(report.failed.map(\.id), ["rotten"])
        XCTAssertTrue(report.failed[0].reason.contains("corrupt"), report.failed[0].reason)
        XCTAssertEqual(try targetFixture.keys("points/\(vmUUID)/rotten/"), [])
        XCTAssertFalse(try target.beginSession().contains(encode(rotten[2]).id), "the rotten chunk was not sent")
        try assertRestores(target, pointID: "good", to: good)
    }

    func testNeighbouringSourceChunksAreReadInFewRangedReads() throws {
        let (source, sourceFixture) = try makeStore(encrypted: false)
        let (target, _) = try makeStore(encrypted: true)
        let chunks = (0..<64).map { pseudoRandomBytes(count: 64 << 10, seed: 500 + UInt64($0)) }
        try backUpPoint(source, chunks, id: "p1")
        let counting = RangeCountingAdapter(sourceFixture.adapter)
        let reader = try Store.open(adapter: counting, cacheDirectory: makeTemporaryDirectory(self, "reader"))

        let report = try PointCopier(from: reader, to: target).copy(reader.listPoints())
        XCTAssertEqual(report.chunksSent, 64)
        let packs = try sourceFixture.keys("packs/").count
        XCTAssertLessThanOrEqual(counting.ranges, packs, "64 chunks in \(packs) packs: one read per pack, not per chunk")
        try assertRestores(target, pointID: "p1", to: chunks)
    }

    // MARK: - Bandwidth and resume

    func testTheThrottleIsAskedForEveryByteSentAndNothingWhenNothingIsSent() throws {
        let (source, _) = try makeStore(encrypted: false)
        let (target, _) = try makeStore(encrypted: false)
        try backUpPoint(source, diskChunks(count: 20, seed: 13), id: "p1")
        let throttled = ThrottleLog()
        var options = CopyOptions()
        options.throttle = { throttled.add($0) }

        let report = try copyAll(source, target, options)
        XCTAssertGreaterThan(report.bytesSent, 10 * (64 << 10))
        XCTAssertGreaterThanOrEqual(throttled.total, report.bytesSent)
        XCTAssertLessThan(throttled.total, report.bytesSent + 4096, "the disk index is the only extra")
        XCTAssertGreaterThanOrEqual(throttled.calls, report.chunksSent)

        let before = throttled.total
        _ = try copyAll(source, target, options)
        XCTAssertEqual(throttled.total, before)
    }

    func testAnInterruptedCopyKeepsWhatItSentAndTheNextRunSendsOnlyTheRest() throws {
        let (source, _) = try makeStore(encrypted: false)
        let (target, targetFixture) = try makeStore(encrypted: true)
        let chunks = (0..<48).map { pseudoRandomBytes(count: 64 << 10, seed: 100 + UInt64($0)) }
        try backUpPoint(source, chunks, id: "p1")
        let sent = ThrottleLog()
        var options = CopyOptions()
        options.checkpointBytes = 1
        options.threads = 2
        options.throttle = { sent.add($0) }
        options.isCancelled = { sent.calls >= 20 }

        let first = try copyAll(source, target, options)
        XCTAssertTrue(first.interrupted)
        XCTAssertEqual(first.copied, [])
        XCTAssertGreaterThanOrEqual(first.chunksSent, 18)
        XCTAssertLessThan(first.chunksSent, 48)
        XCTAssertEqual(try targetFixture.keys("points/"), [], "no manifest: the point does not exist yet")
        XCTAssertFalse(try targetFixture.keys("index/").isEmpty, "what was sent is indexed (checkpointed)")

        let resumed = try copyAll(source, target)
        XCTAssertEqual(resumed.copied.map(\.id), ["p1"])
        XCTAssertEqual(first.chunksSent + resumed.chunksSent, 48, "nothing sent twice")
        XCTAssertEqual(resumed.chunksDeduplicated, first.chunksSent)
        try assertRestores(target, pointID: "p1", to: chunks)
        XCTAssertTrue(try target.verify().ok)
    }

    // MARK: - WriteSession.checkpoint

    func testCheckpointedChunksOfASessionThatNeverCommitsAreSeenByTheNextAndCollectedByGC() throws {
        let (store, fixture) = try makeStore(encrypted: false)
        let chunks = (0..<6).map { encode(pseudoRandomBytes(count: 64 << 10, seed: 200 + UInt64($0))) }
        let dead = try store.beginSession()
        for chunk in chunks.prefix(4) { _ = try dead.add(chunk) }
        try dead.checkpoint()
        _ = try dead.add(chunks[4])  // never checkpointed: lost with the session
        dead.abort()

        let next = try store.beginSession()
        XCTAssertTrue(try chunks.prefix(4).allSatisfy { try next.contains($0.id) })
        XCTAssertFalse(try next.contains(chunks[4].id))
        next.abort()

        let gc = try store.collectGarbage()
        XCTAssertGreaterThan(gc.packsDeleted, 0, "no point names them: garbage")
        XCTAssertEqual(try fixture.keys("packs/"), [])
        XCTAssertFalse(try store.beginSession().contains(chunks[0].id))
        XCTAssertTrue(try store.verify().ok)
    }

    func testACheckpointMidSessionLeavesTheCommittedPointWhole() throws {
        let (store, _) = try makeStore(encrypted: true)
        let data = (0..<10).map { pseudoRandomBytes(count: 64 << 10, seed: 300 + UInt64($0)) }
        let session = try store.beginSession()
        var ids: [ChunkID] = []
        for (position, chunk) in data.enumerated() {
            let encoded = encode(chunk, with: store.chunkCodec)
            _ = try session.add(encoded)
            ids.append(encoded.id)
            if position % 3 == 2 { try session.checkpoint() }
        }
        let disk = try session.putDiskIndex(
            DiskIndex(virtualSize: UInt64(10 << 16), chunkSize: 64 << 10, chunks: ids), vmUUID: vmUUID, pointID: "p1", target: "vda")
        try session.commit(sampleManifest(pointID: "p1", vmUUID: vmUUID, disk: disk))
        let index = try store.readDiskIndex(store.point(id: "p1").disks[0])
        XCTAssertEqual(try index.chunks.map { try store.readChunk($0) }, data)
        XCTAssertTrue(try store.verify().ok)
        XCTAssertEqual(try store.collectGarbage().packsDeleted, 0)
    }
}

/// Bytes and calls a throttle was asked for.
final class ThrottleLog: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes = 0, count = 0

    func add(_ value: Int) { lock.withLock { bytes += value; count += 1 } }
    var total: Int { lock.withLock { bytes } }
    var calls: Int { lock.withLock { count } }
}

/// Counts ranged reads of packs.
final class RangeCountingAdapter: StorageAdapter, @unchecked Sendable {
    let inner: any StorageAdapter
    private let lock = NSLock()
    private var count = 0
    init(_ inner: any StorageAdapter) { self.inner = inner }
    var ranges: Int { lock.withLock { count } }
    var location: String { inner.location }
    func put(_ key: String, data: Data) throws { try inner.put(key, data: data) }
    func get(_ key: String) throws -> Data { try inner.get(key) }
    func getRange(_ key: String, offset: Int, length: Int) throws -> Data {
        if key.hasPrefix("packs/") { lock.withLock { count += 1 } }
        return try inner.getRange(key, offset: offset, length: length)
    }
    func list(prefix: String) throws -> [ObjectInfo] { try inner.list(prefix: prefix) }
    func stat(_ key: String) throws -> ObjectInfo? { try inner.stat(key) }
    func delete(_ key: String) throws { try inner.delete(key) }
    func createExclusive(_ key: String, data: Data) throws -> Bool { try inner.createExclusive(key, data: data) }
}
