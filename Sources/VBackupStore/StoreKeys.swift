import Foundation
import StorageAdapter

/// Finding, unlocking and writing the key files of encrypted stores. Unlocking reads only
/// `config.json` and key files, so a wrong passphrase or a foreign key fails before any other
/// object, or the local catalog, is touched.
public enum StoreKeys {
    /// A key file that the passphrase opened.
    struct Unlocked {
        var file: KeyFile
        /// `keys/<id>.json`, or the path of a key file kept outside the store.
        var name: String
        var master: MasterKey
    }

    /// Unlocks the key the source names (or the first of `keys/` the passphrase opens).
    static func unlock(_ config: StoreConfig, adapter: any StorageAdapter, source: KeySource) throws -> Unlocked {
        guard let encryption = config.encryption else { preconditionFailure("unlocking a plain store") }
        let candidates = try keyFiles(adapter: adapter, source: source)
        let mine = candidates.filter { $0.file.store == config.id }
        guard let first = candidates.first else { throw KeyError.noKeyFile(store: adapter.location) }
        if mine.isEmpty { throw KeyError.foreignKey(keyID: first.file.id, store: config.id) }
        let passphrase = try source.passphrase()
        for candidate in mine {
            guard let master = try candidate.file.open(passphrase: passphrase, name: candidate.name) else { continue }
            guard master.checkValue == encryption.keyCheck else {
                throw KeyError.foreignKey(keyID: candidate.file.id, store: config.id)
            }
            return Unlocked(file: candidate.file, name: candidate.name, master: master)
        }
        throw KeyError.wrongPassphrase(keyFiles: mine.map(\.name))
    }

    /// Writes the key file of a new store: into `keys/`, or to `setup.keyFile`.
    static func writeFirstKeyFile(_ master: MasterKey, storeID: String, setup: EncryptionSetup, adapter: any StorageAdapter) throws {
        let file = try KeyFile.seal(master, storeID: storeID, passphrase: setup.passphrase, parameters: setup.kdf)
        try write(file, into: adapter, orTo: setup.keyFile)
    }

    /// Writes a key file into the store's `keys/`, or to `url`; never replaces an existing one.
    static func write(_ file: KeyFile, into adapter: any StorageAdapter, orTo url: URL?) throws {
        let data = try file.serialized()
        if let url {
            try KeyFileIO.create(url, data: data)
            return
        }
        let key = file.storeKey
        try StoreError.mapping(key: key) {
            if try adapter.stat(key) != nil { throw KeyError.keyFileExists(key) }
            try adapter.put(key, data: data)
        }
    }

    private static func keyFiles(adapter: any StorageAdapter, source: KeySource) throws -> [(file: KeyFile, name: String)] {
        if let url = source.keyFile {
            return [(try KeyFile.parse(KeyFileIO.read(url), name: url.path), url.path)]
        }
        return try StoreError.mapping(key: StoreFormat.keysPrefix) {
            let keys = try adapter.list(prefix: StoreFormat.keysPrefix).map(\.key).filter { $0.hasSuffix(".json") }.sorted()
            return try keys.map { key in (try KeyFile.parse(adapter.get(key), name: key), key) }
        }
    }
}
