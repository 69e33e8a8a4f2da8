import Foundation
import LocalStorage
import StorageAdapter
import VBackupModel
import VBackupStore
import XCTest

final class StoreLifecycleTests: XCTestCase {
    func testCreateWritesConfigAndOpenReadsItBack() throws {
        let fixture = try StoreFixture(self)
        let created = try Store.create(
            adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "cache"),
            chunkSize: 64 << 10, packSize: 1 << 20)
        XCTAssertEqual(try fixture.keys(), ["config.json"])
        let opened = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "cache2"))
        XCTAssertEqual(opened.config.id, created.config.id)
        XCTAssertEqual(opened.config.format, "vbackup-store")
        XCTAssertEqual(opened.config.version, 1)
        XCTAssertEqual(opened.config.chunkSize, 64 << 10)
        XCTAssertEqual(opened.config.packSize, 1 << 20)
        XCTAssertNotNil(UUID(uuidString: opened.config.id))
    }

    func testCreateRefusesAnExistingStore() throws {
        let fixture = try StoreFixture(self)
        let cache = try makeTemporaryDirectory(self, "cache")
        _ = try Store.create(adapter: fixture.adapter, cacheDirectory: cache)
        XCTAssertThrowsError(try Store.create(adapter: fixture.adapter, cacheDirectory: cache)) { error in
            guard case StoreError.alreadyInitialized = error else { return XCTFail("\(error)") }
        }
    }

    func testOpenOfAnEmptyOrForeignLocationIsNotAStore() throws {
        let fixture = try StoreFixture(self)
        let cache = try makeTemporaryDirectory(self, "cache")
        XCTAssertThrowsError(try Store.open(adapter: fixture.adapter, cacheDirectory: cache)) { error in
            guard case StoreError.notAStore = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains(fixture.storeDirectory.path), "\(error)")
        }
        try fixture.adapter.put("config.json", data: Data(#"{"format":"something-else"}"#.utf8))
        XCTAssertThrowsError(try Store.open(adapter: fixture.adapter, cacheDirectory: cache)) { error in
            guard case StoreError.notAStore = error else { return XCTFail("\(error)") }
        }
    }

    func testOpenRefusesAFutureFormatVersion() throws {
        let fixture = try StoreFixture(self)
        let cache = try makeTemporaryDirectory(self, "cache")
        _ = try Store.create(adapter: fixture.adapter, cacheDirectory: cache)
        let config = String(decoding: try fixture.adapter.get("config.json"), as: UTF8.self)
        let future = config.replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 3")
        XCTAssertNotEqual(future, config)
        try fixture.adapter.put("config.json", data: Data(future.utf8))
        XCTAssertThrowsError(try Store.open(adapter: fixture.adapter, cacheDirectory: cache)) { error in
            guard case StoreError.unsupportedVersion(3) = error else { return XCTFail("\(error)") }
        }
    }

    func testReadsDatesWithAndWithoutFractionalSeconds() throws {
        let fixture = try StoreFixture(self)
        let config = """
            {"chunkSize":1048576,"created":"2026-11-21T20:15:00Z","format":"vbackup-store",
             "id":"0b7d3a52-7f4e-4c1e-9a51-3c2d1e0f9a88","packSize":16777216,"version":1}
            """
        try fixture.adapter.put("config.json", data: Data(config.utf8))
        let store = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "cache"))
        XCTAssertEqual(store.config.created, Date(timeIntervalSince1970: 1_795_292_100))

        let created = Date(timeIntervalSince1970: 1_795_292_100.25)
        let manifest = sampleManifest(pointID: "p1", createdAt: created)
        try store.beginSession().commit(manifest)
        let reread = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "cache2"))
        XCTAssertEqual(try reread.point(id: "p1").createdAt, created, "milliseconds survive the JSON")
    }

    func testCatalogLivesInTheCacheDirectoryNotInTheStore() throws {
        let fixture = try StoreFixture(self)
        let cache = try makeTemporaryDirectory(self, "cache")
        let store = try Store.create(adapter: fixture.adapter, cacheDirectory: cache)
        let catalog = cache.appendingPathComponent(store.config.id).appendingPathComponent("catalog.sqlite")
        XCTAssertTrue(FileManager.default.fileExists(atPath: catalog.path))
        XCTAssertFalse(try fixture.keys().contains { $0.hasSuffix(".sqlite") })
    }

    func testPointIDsSortByTimeAndDoNotCollide() {
        let date = Date(timeIntervalSince1970: 1_795_292_100)  // 2026-11-21T20:15:00Z
        let id = Store.newPointID(at: date)
        XCTAssertTrue(id.hasPrefix("20261121T201500Z-"), id)
        XCTAssertEqual(id.count, "20261121T201500Z-1a2b3c".count)
        XCTAssertLessThan(id, Store.newPointID(at: date.addingTimeInterval(1)))
        // One process never repeats an id, even from many threads in the same second.
        final class Drawn: @unchecked Sendable {
            let lock = NSLock()
            var ids = Set<String>()
        }
        let drawn = Drawn()
        DispatchQueue.concurrentPerform(iterations: 2_000) { _ in
            let id = Store.newPointID(at: date)
            drawn.lock.withLock { _ = drawn.ids.insert(id) }
        }
        XCTAssertEqual(drawn.ids.count, 2_000)
    }

    func testErrorDescriptionsAreOneLine() {
        let errors: [StoreError] = [
            .notAStore("/x"), .alreadyInitialized("/x"), .unsupportedVersion(9), .pointNotFound("p"),
            .chunkMissing(.zero), .corrupt(key: "k", reason: "r"), .storage(.notFound(key: "k")),
            .catalog("c"), .invalidName("a/b"), .sessionClosed("aborted"),
        ]
        for error in errors {
            XCTAssertFalse(error.description.isEmpty)
            XCTAssertFalse(error.description.contains("\n"), error.description)
        }
    }
}
