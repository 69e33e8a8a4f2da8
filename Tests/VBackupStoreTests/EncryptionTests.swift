import Foundation
import LocalStorage
import StorageAdapter
@testable import VBackupStore
import XCTest

/// Encrypted stores: round trips, what the stored bytes reveal, dedup under one key, and which
/// keys open a store.
final class EncryptionTests: XCTestCase {
    func testEncryptedStoreRoundTripsBitExact() throws {
        let fixture = try StoreFixture(self)
        let store = try makeEncryptedStore(self, fixture)
        XCTAssertTrue(store.isEncrypted)
        XCTAssertTrue(store.chunkCodec.isEncrypting)
        let chunks = diskChunks(count: 20, seed: 70)
        let result = try backUp(store, chunks: chunks, pointID: "p1")
        let session = try store.beginSession()
        let nvram = pseudoRandomBytes(count: 5000, seed: 71)
        let nvramKey = try session.putPointObject(nvram, vmUUID: result.manifest.vmUUID, pointID: "p2", name: "nvram")
        try session.commit(sampleManifest(pointID: "p2", vmUUID: result.manifest.vmUUID, createdAt: Date(timeIntervalSince1970: 1_800_000_100)))

        // A fresh cache reads everything back through the store: fragments, manifests, indexes.
        let reopened = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "fresh"), keys: keys())
        XCTAssertEqual(try reopened.point(id: "p1"), result.manifest)
        XCTAssertEqual(try reopened.listPoints().map(\.id), ["p1", "p2"])
        let index = try reopened.readDiskIndex(result.manifest.disks[0])
        XCTAssertEqual(index, result.index)
        for (position, id) in index.chunks.enumerated() {
            XCTAssertEqual(try reopened.readChunk(id), chunks[position], "chunk \(position)")
        }
        XCTAssertEqual(try reopened.readPointObject(key: nvramKey), nvram)
        XCTAssertEqual(reopened.config.version, 2)
        XCTAssertEqual(reopened.config.encryption?.algorithm, "aes-256-gcm")
    }

    func testNothingStoredRevealsTheDataOrItsHashes() throws {
        let marker = Data("VBACKUP-PLAINTEXT-MARKER-7f3a9c".utf8)
        var chunks = (0..<4).map { index -> Data in
            var data = Data()
            while data.count < 64 << 10 { data.append(marker); data.append(contentsOf: "chunk \(index) ".utf8) }
            return data.prefix(64 << 10)
        }
        for seed in 0..<4 {
            var random = pseudoRandomBytes(count: 64 << 10, seed: 900 + UInt64(seed))
            random.replaceSubrange(1000..<1000 + marker.count, with: marker)
            chunks.append(random)
        }
        let plainIDs = chunks.map { data in data.withUnsafeBytes { ChunkCodec.plain.id(of: $0) } }

        // The same backup into a plain store shows the check can fail: marker and ids are there.
        let plainFixture = try StoreFixture(self)
        _ = try backUp(try makeSmallStore(self, plainFixture), chunks: chunks, pointID: "p1")
        let plainObjects = try storedObjects(plainFixture)
        XCTAssertTrue(plainObjects.values.contains { $0.range(of: marker) != nil })
        XCTAssertTrue(plainObjects.values.contains { $0.range(of: Data(plainIDs[0].bytes)) != nil })
        XCTAssertTrue(plainObjects.values.contains { $0.range(of: Data("domainXML".utf8)) != nil })

        let fixture = try StoreFixture(self)
        let store = try makeEncryptedStore(self, fixture)
        _ = try backUp(store, chunks: chunks, pointID: "p1")
        let objects = try storedObjects(fixture).filter { !$0.key.hasPrefix("keys/") && $0.key != "config.json" }
        XCTAssertEqual(Set(objects.keys.map { $0.split(separator: "/")[0] }), ["packs", "index", "points"])
        for (key, data) in objects {
            XCTAssertNil(data.range(of: marker), "\(key) holds the data in the clear")
            for word in ["domainXML", "host-a", "vmName", "VBINDEX", "VBDIDX"] {
                XCTAssertNil(data.range(of: Data(word.utf8)), "\(key) shows '\(word)'")
            }
            for id in plainIDs {
                XCTAssertNil(data.range(of: Data(id.bytes)), "\(key) holds the SHA-256 of a chunk")
                XCTAssertFalse(key.contains(id.hex), "\(key) is named after the SHA-256 of a chunk")
            }
        }
        let pack = try XCTUnwrap(objects.first { $0.key.hasPrefix("packs/") }?.value)
        XCTAssertEqual(Data(pack.suffix(8)), Data("VBPACKE1".utf8))
    }

    func testSameDataIsStoredOnceUnderOneKeyWithIDsOfThatKey() throws {
        let fixture = try StoreFixture(self)
        let store = try makeEncryptedStore(self, fixture)
        let chunks = diskChunks(count: 12, seed: 72)
        let first = try backUp(store, chunks: chunks, pointID: "p1")
        XCTAssertGreaterThan(first.bytesWritten, 0)
        let packs = try fixture.keys("packs/")
        let second = try backUp(store, chunks: chunks, pointID: "p2", createdAt: Date(timeIntervalSince1970: 1_800_000_100))
        XCTAssertEqual(second.bytesWritten, 0, "every chunk was already stored")
        XCTAssertEqual(try fixture.keys("packs/"), packs)
        XCTAssertEqual(second.index.chunks, first.index.chunks)

        // Another store's key gives the same data other ids, and neither is its SHA-256.
        let other = try makeEncryptedStore(self, try StoreFixture(self), cache: "other")
        let data = chunks[1]
        let ids = [store.chunkCodec, other.chunkCodec, ChunkCodec.plain].map { codec in data.withUnsafeBytes { codec.id(of: $0) } }
        XCTAssertEqual(Set(ids).count, 3)
        XCTAssertEqual(ids[0], first.index.chunks[1])
    }

    func testSealedChunkBlobsAreBoundToTheirIDs() throws {
        let store = try makeEncryptedStore(self, try StoreFixture(self))
        let codec = store.chunkCodec
        let a = encode(compressibleBytes(count: 64 << 10, seed: 73), with: codec)
        let b = encode(pseudoRandomBytes(count: 64 << 10, seed: 74), with: codec)
        XCTAssertEqual(try codec.decode(a.blob, expecting: a.id), compressibleBytes(count: 64 << 10, seed: 73))
        XCTAssertEqual(try codec.decode(b.blob, expecting: b.id), pseudoRandomBytes(count: 64 << 10, seed: 74))
        XCTAssertThrowsError(try codec.decode(a.blob, expecting: b.id), "a blob under another chunk's id")
        XCTAssertThrowsError(try ChunkCodec.plain.decode(a.blob, expecting: a.id))
        XCTAssertNotEqual(encode(pseudoRandomBytes(count: 64 << 10, seed: 74), with: codec).blob, b.blob, "fresh nonce per seal")
    }

    func testPlainStoresKeepTheVersion1Format() throws {
        let fixture = try StoreFixture(self)
        let store = try makeSmallStore(self, fixture)
        _ = try backUp(store, chunks: diskChunks(count: 4, seed: 75), pointID: "p1")
        let config = String(decoding: try fixture.adapter.get("config.json"), as: UTF8.self)
        XCTAssertTrue(config.contains("\"version\" : 1"), config)
        XCTAssertFalse(config.contains("encryption"), config)
        XCTAssertFalse(store.chunkCodec.isEncrypting)
        let pack = try fixture.adapter.get(try XCTUnwrap(try fixture.keys("packs/").first))
        XCTAssertEqual(Data(pack.suffix(8)), Data("VBPACK01".utf8))
        XCTAssertThrowsError(try StoreKeys.paperCopy(adapter: fixture.adapter, keys: keys())) { error in
            XCTAssertEqual(error as? KeyError, .notEncrypted(store: fixture.adapter.location))
        }
    }

    func testAnEncryptedStoreNeedsAKeySource() throws {
        let fixture = try StoreFixture(self)
        _ = try makeEncryptedStore(self, fixture)
        let cache = try makeTemporaryDirectory(self, "locked")
        XCTAssertThrowsError(try Store.open(adapter: fixture.adapter, cacheDirectory: cache)) { error in
            XCTAssertEqual(error as? KeyError, .locked(store: fixture.adapter.location))
        }
        XCTAssertEqual(treeSnapshot(cache), [])
    }

    func testKeyFileOutsideTheStore() throws {
        let fixture = try StoreFixture(self)
        let keyFile = try makeTemporaryDirectory(self, "secrets").appendingPathComponent("store.key")
        let store = try makeEncryptedStore(self, fixture, keyFile: keyFile)
        let result = try backUp(store, chunks: diskChunks(count: 4, seed: 76), pointID: "p1")
        XCTAssertEqual(try fixture.keys("keys/"), [], "no key in the store")
        let mode = try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o600)

        XCTAssertThrowsError(try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "c1"), keys: keys())) { error in
            XCTAssertEqual(error as? KeyError, .noKeyFile(store: fixture.adapter.location))
        }
        let opened = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "c2"), keys: keys(keyFile: keyFile))
        XCTAssertEqual(try opened.readChunk(result.index.chunks[1]), diskChunks(count: 4, seed: 76)[1])

        let second = try StoreFixture(self)
        XCTAssertThrowsError(try makeEncryptedStore(self, second, keyFile: keyFile)) { error in
            XCTAssertEqual(error as? KeyError, .keyFileExists(keyFile.path))
        }
        XCTAssertEqual(try second.keys(), [], "no config.json: the store was not created")
    }

    func testChangingThePassphraseRewrapsTheSameKey() throws {
        let fixture = try StoreFixture(self)
        let store = try makeEncryptedStore(self, fixture)
        let result = try backUp(store, chunks: diskChunks(count: 4, seed: 77), pointID: "p1")
        let oldName = try XCTUnwrap(try fixture.keys("keys/").first)
        let (old, new) = try StoreKeys.changePassphrase(
            adapter: fixture.adapter, keys: keys(), newPassphrase: { "a new passphrase" }, kdf: testKDF)
        XCTAssertEqual(old, oldName)
        XCTAssertEqual(try fixture.keys("keys/"), [new])

        XCTAssertThrowsError(try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "c1"), keys: keys())) { error in
            XCTAssertEqual("\(error)", "wrong passphrase for key file \(new)")
        }
        let opened = try Store.open(adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(self, "c2"), keys: keys("a new passphrase"))
        XCTAssertEqual(try opened.readChunk(result.index.chunks[1]), diskChunks(count: 4, seed: 77)[1])
    }
}
