import Foundation
import LocalStorage
import StorageAdapter
import VBackupStore
import XCTest

/// scrypt at N = 2^10: the same code path as the default, a thousandth of the work.
let testKDF = ScryptParameters(n: 1 << 10, r: 8, p: 1)
let testPassphrase = "correct horse battery staple"

/// An encrypted store with the small geometry of `makeSmallStore`.
func makeEncryptedStore(
    _ test: XCTestCase, _ fixture: StoreFixture, cache: String = "cache",
    passphrase: String = testPassphrase, keyFile: URL? = nil
) throws -> Store {
    try Store.create(
        adapter: fixture.adapter, cacheDirectory: try makeTemporaryDirectory(test, cache),
        chunkSize: 64 << 10, packSize: 256 << 10,
        encryption: EncryptionSetup(passphrase: passphrase, keyFile: keyFile, kdf: testKDF))
}

/// Unlocks with a fixed passphrase; counts how often it was asked for.
final class FixedPassphrase: @unchecked Sendable {
    let value: String
    private let lock = NSLock()
    private var asked = 0

    init(_ value: String) { self.value = value }

    var timesAsked: Int { lock.withLock { asked } }

    func source(keyFile: URL? = nil) -> KeySource {
        KeySource(keyFile: keyFile) { [self] in
            lock.withLock { asked += 1 }
            return value
        }
    }
}

func keys(_ passphrase: String = testPassphrase, keyFile: URL? = nil) -> KeySource {
    FixedPassphrase(passphrase).source(keyFile: keyFile)
}

/// Every file under `url` with its size and modification time ([] when it does not exist):
/// equal snapshots mean nothing was created, removed or rewritten.
func treeSnapshot(_ url: URL) -> [String] {
    guard let walker = FileManager.default.enumerator(
        at: url, includingPropertiesForKeys: [.fileSizeKey, .contentModificationDateKey])
    else { return [] }
    var entries: [String] = []
    while let item = walker.nextObject() as? URL {
        let values = try? item.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey])
        let stamp = values?.contentModificationDate?.timeIntervalSince1970 ?? 0
        entries.append("\(item.path.dropFirst(url.path.count)) \(values?.fileSize ?? -1) \(stamp)")
    }
    return entries.sorted()
}

/// Every stored object's bytes, by key.
func storedObjects(_ fixture: StoreFixture) throws -> [String: Data] {
    var objects: [String: Data] = [:]
    for key in try fixture.keys() { objects[key] = try fixture.adapter.get(key) }
    return objects
}

