import Foundation
import LocalStorage
import StorageAdapter
@testable import VBackupStore
import XCTest

/// Which keys open an encrypted store, and that a refused one changes nothing.
final class KeyTests: XCTestCase {
    /// An encrypted store with one point, its cache directory, and its key file's name.
    private func populatedStore() throws -> (StoreFixture, Store, cache: URL, keyName: String) {
        let fixture = try StoreFixture(self)
        let cache = try makeTemporaryDirectory(self, "cache")
        let store = try Store.create(
            adapter: fixture.adapter, cacheDirectory: cache, chunkSize: 64 << 10, packSize: 256 << 10,
            encryption: EncryptionSetup(passphrase: testPassphrase, kdf: testKDF))
        _ = try backUp(store, chunks: diskChunks(count: 8, seed: 80), pointID: "p1")
        return (fixture, store, cache, try XCTUnwrap(try fixture.keys("keys/").first))
    }

    /// Opens with `source` against the store's own cache and a fresh one; each attempt must
    /// fail with `expected` and leave the store and both caches as they were.
    private func assertRefused(
        _ fixture: StoreFixture, cache: URL, _ source: KeySource, _ expected: KeyError, _ message: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let fresh = try makeTemporaryDirectory(self, "fresh")
        let before = [treeSnapshot(fixture.storeDirectory), treeSnapshot(cache), treeSnapshot(fresh)]
        XCTAssertGreaterThan(before[1].count, 0, "the store's cache exists", file: file, line: line)
        for directory in [cache, fresh] {
            XCTAssertThrowsError(try Store.open(adapter: fixture.adapter, cacheDirectory: directory, keys: source), file: file, line: line) { error in
                XCTAssertEqual(error as? KeyError, expected, file: file, line: line)
                XCTAssertEqual("\(error)", message, file: file, line: line)
            }
        }
        let after = [treeSnapshot(fixture.storeDirectory), treeSnapshot(cache), treeSnapshot(fresh)]
        XCTAssertEqual(after, before, "nothing in the store or the caches was created or changed", file: file, line: line)
    }

    func testWrongPassphraseIsOneClearErrorAndTouchesNothing() throws {
        let (fixture, _, cache, keyName) = try populatedStore()
        try assertRefused(fixture, cache: cache, keys("not the passphrase"),
                          .wrongPassphrase(keyFiles: [keyName]), "wrong passphrase for key file \(keyName)")
    }

    func testKeyFileOfAnotherStoreIsRefusedBeforeAskingThePassphrase() throws {
        let (fixture, store, cache, _) = try populatedStore()
        let otherFixture = try StoreFixture(self)
        let otherKey = try makeTemporaryDirectory(self, "other").appendingPathComponent("other.key")
        _ = try makeEncryptedStore(self, otherFixture, cache: "other-cache", keyFile: otherKey)
        let otherID = try KeyFile.parse(Data(contentsOf: otherKey), name: "").id
        let message = "key \(otherID) does not belong to store \(store.config.id)"

        let asked = FixedPassphrase(testPassphrase)
        try assertRefused(fixture, cache: cache, asked.source(keyFile: otherKey), .foreignKey(keyID: otherID, store: store.config.id), message)
        XCTAssertEqual(asked.timesAsked, 0, "refused on its store id alone")
    }

    func testKeyThatUnlocksButHoldsAnotherMasterKeyIsRefusedByTheKeyCheck() throws {
        let (fixture, store, cache, _) = try populatedStore()
        // Claims this store and opens with the right passphrase: only config.json's key check tells.
        let impostor = try KeyFile.seal(MasterKey.generate(), storeID: store.config.id, passphrase: testPassphrase, parameters: testKDF)
        let path = try makeTemporaryDirectory(self, "impostor").appendingPathComponent("impostor.key")
        try impostor.serialized().write(to: path)
        try assertRefused(fixture, cache: cache, keys(keyFile: path), .foreignKey(keyID: impostor.id, store: store.config.id),
                          "key \(impostor.id) does not belong to store \(store.config.id)")
    }

    func testEditedKeyFileParametersFailLikeAWrongPassphrase() throws {
        let (fixture, _, cache, keyName) = try populatedStore()
        let url = fixture.storeDirectory.appendingPathComponent(keyName)
        let json = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        try Data(json.replacingOccurrences(of: "\"r\" : 8", with: "\"r\" : 9").utf8).write(to: url)
        try assertRefused(fixture, cache: cache, keys(), .wrongPassphrase(keyFiles: [keyName]), "wrong passphrase for key file \(keyName)")
    }

    /// The store still opens (one bad object never locks the others away) and names the object.
    private func assertUnreadable(_ key: String, _ fixture: StoreFixture, cache: String, line: UInt = #line) throws {
        let store = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, cache), keys: keys())
        let reason = try store.unreadableObjects()[key]
        XCTAssertTrue(reason?.contains("authentication failed") ?? false, "\(key): \(reason ?? "readable")", line: line)
    }

    func testTamperedObjectsAreCorrupt() throws {
        let (fixture, store, _, _) = try populatedStore()
        let manifest = try store.point(id: "p1")
        let index = try store.readDiskIndex(manifest.disks[0])
        let packKey = try XCTUnwrap(try fixture.keys("packs/").first)
        let manifestKey = "points/\(manifest.vmUUID)/p1/manifest.json"

        // A sealed chunk blob, and a sealed pack trailer.
        try flipByte(fixture, packKey) { _ in 100 }
        let firstInPack = try XCTUnwrap(index.chunks.first { id in (try? store.catalog.locations(of: id))?.first?.pack == String(packKey.dropFirst(9).dropLast(5)) })
        assertCorrupt(packKey, "authentication failed") { _ = try store.readChunk(firstInPack) }
        try flipByte(fixture, packKey) { $0.count - 20 }
        assertCorrupt(packKey, "authentication failed") { _ = try store.packEntries(String(packKey.dropFirst(9).dropLast(5))) }

        // A fragment, renamed after its new SHA-256 so only the seal can tell.
        let fragmentKey = try XCTUnwrap(try fixture.keys("index/").first)
        var fragment = try fixture.adapter.get(fragmentKey)
        fragment[fragment.count / 2] ^= 1
        try fixture.adapter.delete(fragmentKey)
        let renamed = StoreFormat.fragmentKey(Digests.hex(of: fragment))
        try fixture.adapter.put(renamed, data: fragment)
        try assertUnreadable(renamed, fixture, cache: "c1")
        try fixture.adapter.delete(renamed)

        // A manifest; then a (valid) disk index put in a manifest's place.
        let sealedManifest = try fixture.adapter.get(manifestKey)
        try flipByte(fixture, manifestKey) { $0.count - 1 }
        try assertUnreadable(manifestKey, fixture, cache: "c2")
        try fixture.adapter.put(manifestKey, data: try fixture.adapter.get(manifest.disks[0].indexKey))
        try assertUnreadable(manifestKey, fixture, cache: "c3")
        try fixture.adapter.put(manifestKey, data: sealedManifest)
        XCTAssertNoThrow(try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "c4"), keys: keys()))
    }

    private func assertCorrupt(_ key: String, _ reason: String, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard case StoreError.corrupt(let found, let why) = error else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(found, key, file: file, line: line)
            XCTAssertTrue(why.contains(reason), why, file: file, line: line)
        }
    }
}
