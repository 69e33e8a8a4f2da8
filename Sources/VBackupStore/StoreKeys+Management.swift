import Foundation
import StorageAdapter

/// What `vbackup key …` does: paper copies and passphrase changes. Each unlocks the key first,
/// so nothing is exported, restored or rewrapped that would not open the store.
extension StoreKeys {
    /// A paper copy (`PaperKey`) of the key file the source unlocks.
    public static func paperCopy(adapter: any StorageAdapter, keys: KeySource) throws -> String {
        let config = try encryptedConfig(adapter)
        let unlocked = try unlock(config, adapter: adapter, source: keys)
        let json = try JSONSerialization.data(withJSONObject: JSONSerialization.jsonObject(with: unlocked.file.serialized()), options: [.sortedKeys, .withoutEscapingSlashes])
        return PaperKey.encode(.init(storeID: config.id, keyID: unlocked.file.id, payload: json))
    }

    /// Restores a key file from a paper copy: every line's checksum, the store, and the
    /// passphrase are checked before it is written into `keys/` (or to `keyFile`). Returns
    /// where it was written.
    public static func importPaper(
        _ text: String, adapter: any StorageAdapter, keyFile: URL?, passphrase: () throws -> String
    ) throws -> String {
        let config = try encryptedConfig(adapter)
        let paper = try PaperKey.decode(text)
        let file = try KeyFile.parse(paper.payload, name: "the paper copy")
        guard file.id == paper.keyID, file.store == paper.storeID else {
            throw KeyError.paper("the 'store' or 'key' line does not match the key on the lines below it")
        }
        guard file.store == config.id else { throw KeyError.foreignKey(keyID: file.id, store: config.id) }
        guard let master = try file.open(passphrase: passphrase(), name: "key \(file.id)") else {
            throw KeyError.wrongPassphrase(keyFiles: ["key \(file.id) (paper copy)"])
        }
        guard master.checkValue == config.encryption?.keyCheck else { throw KeyError.foreignKey(keyID: file.id, store: config.id) }
        try write(file, into: adapter, orTo: keyFile)
        return keyFile?.path ?? file.storeKey
    }

    /// Seals the master key under a new passphrase (new salt, `kdf` costs) in a new key file,
    /// written before the old one is removed: in the store a new `keys/<id>.json`, outside it
    /// an atomic replacement of the same path. Returns the old and the new key file's name.
    public static func changePassphrase(
        adapter: any StorageAdapter, keys: KeySource, newPassphrase: () throws -> String, kdf: ScryptParameters = .standard
    ) throws -> (old: String, new: String) {
        let config = try encryptedConfig(adapter)
        let unlocked = try unlock(config, adapter: adapter, source: keys)
        let file = try KeyFile.seal(unlocked.master, storeID: config.id, passphrase: newPassphrase(), parameters: kdf)
        if let url = keys.keyFile {
            try KeyFileIO.replace(url, data: file.serialized())
            return (url.path, url.path)
        }
        try write(file, into: adapter, orTo: nil)
        try StoreError.mapping(key: unlocked.name) { try adapter.delete(unlocked.name) }
        return (unlocked.name, file.storeKey)
    }

    private static func encryptedConfig(_ adapter: any StorageAdapter) throws -> StoreConfig {
        let config = try Store.readConfig(adapter)
        guard config.encryption != nil else { throw KeyError.notEncrypted(store: adapter.location) }
        return config
    }
}
