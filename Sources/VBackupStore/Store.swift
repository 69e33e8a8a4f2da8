import Foundation
import StorageAdapter
import VBackupModel

/// A content-addressed, deduplicating, compressed, optionally encrypted store of restore points
/// (see `StoreFormat`).
///
/// Thread-safe: its state is the immutable config and keys, the adapter and the catalog
/// (SQLite, itself thread-safe), so readers and write sessions on many threads share one instance.
public final class Store: @unchecked Sendable {
    public let adapter: any StorageAdapter
    public let config: StoreConfig
    /// Chunk ids and blobs in this store's format: the backup engine encodes with it.
    public let chunkCodec: ChunkCodec
    /// Seals and opens every other object (`Store+Objects`); passes bytes through in a plain store.
    let cipher: ObjectCipher
    let catalog: Catalog
    /// Object-lock requests made through this instance (`retentionRequests`).
    let retentionCounter = RetentionCounter()

    private init(adapter: any StorageAdapter, config: StoreConfig, key: MasterKey?, cacheDirectory: URL) throws {
        self.adapter = adapter
        self.config = config
        self.chunkCodec = key?.chunkCodec ?? .plain
        self.cipher = key?.cipher ?? .none
        self.catalog = try Catalog(directory: cacheDirectory.appendingPathComponent(config.id))
    }

    public var isEncrypted: Bool { config.encryption != nil }

    /// Initializes a new store at the adapter's location; fails if `config.json` exists. With
    /// `encryption`, a master key is made and its key file written (into the store or to
    /// `encryption.keyFile`) before `config.json`, which is written last: a store exists once
    /// its config does.
    public static func create(
        adapter: any StorageAdapter, cacheDirectory: URL,
        chunkSize: Int = 256 << 10, packSize: Int? = nil, encryption: EncryptionSetup? = nil
    ) throws -> Store {
        let packSize = packSize ?? adapter.preferredObjectSize
        precondition(chunkSize > 0 && chunkSize <= Int(UInt32.max) && packSize > 0, "invalid store geometry")
        let existing = try StoreError.mapping(key: StoreFormat.configKey) { try adapter.stat(StoreFormat.configKey) }
        if existing != nil { throw StoreError.alreadyInitialized(adapter.location) }
        let id = UUID().uuidString.lowercased()
        let key = encryption.map { _ in MasterKey.generate() }
        var config = StoreConfig(
            format: StoreFormat.formatName, version: StoreFormat.version, id: id,
            chunkSize: chunkSize, packSize: packSize, created: Date())
        if let encryption, let key {
            try StoreKeys.writeFirstKeyFile(key, storeID: id, setup: encryption, adapter: adapter)
            config.version = StoreFormat.encryptedVersion
            config.encryption = StoreEncryption(
                algorithm: StoreEncryption.aes256GCM, chunkID: StoreEncryption.hmacSHA256, keyCheck: key.checkValue)
        }
        let data = try StoreJSON.encode(config)
        try StoreError.mapping(key: StoreFormat.configKey) { try adapter.put(StoreFormat.configKey, data: data) }
        return try Store(adapter: adapter, config: config, key: key, cacheDirectory: cacheDirectory)
    }

    /// Opens an existing store and brings the local catalog up to date with it. An encrypted
    /// store is unlocked with `keys` first: a wrong passphrase or a key of another store fails
    /// with a `KeyError` before the catalog is opened or any other object is read.
    public static func open(adapter: any StorageAdapter, cacheDirectory: URL, keys: KeySource? = nil) throws -> Store {
        let config = try readConfig(adapter)
        var key: MasterKey?
        if config.encryption != nil {
            guard let keys else { throw KeyError.locked(store: adapter.location) }
            key = try StoreKeys.unlock(config, adapter: adapter, source: keys).master
        }
        let store = try Store(adapter: adapter, config: config, key: key, cacheDirectory: cacheDirectory)
        try store.refresh()
        return store
    }

    /// Reads and checks `config.json`.
    static func readConfig(_ adapter: any StorageAdapter) throws -> StoreConfig {
        let data: Data
        do {
            data = try adapter.get(StoreFormat.configKey)
        } catch StorageError.notFound {
            throw StoreError.notAStore(adapter.location)
        } catch let error as StorageError {
            throw StoreError.storage(error)
        }
        guard let config = try? StoreJSON.decode(StoreConfig.self, from: data),
              config.format == StoreFormat.formatName
        else { throw StoreError.notAStore(adapter.location) }
        guard StoreFormat.readableVersions.contains(config.version) else { throw StoreError.unsupportedVersion(config.version) }
        // Version 2 is exactly "version 1 + encryption": neither may appear without the other.
        switch (config.encryption, config.version >= StoreFormat.encryptedVersion) {
        case (nil, false):
            return config
        case (let encryption?, true)
            where encryption.algorithm == StoreEncryption.aes256GCM && encryption.chunkID == StoreEncryption.hmacSHA256:
            return config
        default:
            let what = config.encryption.map { "encryption \($0.algorithm)/\($0.chunkID)" } ?? "no encryption section"
            throw StoreError.corrupt(key: StoreFormat.configKey, reason: "version \(config.version) with \(what)")
        }
    }

    /// A sortable point id: UTC time to the second, then 6 hex digits against collisions
    /// ("20261121T201500Z-1a2b3c"). The digits start at a random value per process and step by
    /// one per id, so one process never repeats itself (24 random bits alone collide, rarely,
    /// within a busy second) and two hosts meet only by chance.
    public static func newPointID(at date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { value.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        let stamp = "\(c.year ?? 0)\(two(c.month))\(two(c.day))T\(two(c.hour))\(two(c.minute))\(two(c.second))Z"
        let suffix = String(PointIDSequence.shared.next(), radix: 16)
        return stamp + "-" + String(repeating: "0", count: 6 - suffix.count) + suffix
    }

    /// Starts a write session (registering it with every host that shares the store). With
    /// `retainUntil`, the session writes an immutable point: the storage must have object lock
    /// (else `StoreError.noObjectLock`, before anything is written), and no one can delete the
    /// point or the packs it needs before that date.
    public func beginSession(retainUntil: Date? = nil) throws -> WriteSession {
        try beginSession(retainUntil: retainUntil, slack: .standard)
    }

    /// `beginSession(retainUntil:)` with the packs' retention slack chosen (tests use a short one).
    func beginSession(retainUntil: Date?, slack: RetentionSlack) throws -> WriteSession {
        let retention = try retainUntil.map { try SessionRetention(store: self, pointUntil: $0, slack: slack) }
        return try WriteSession(store: self, retention: retention)
    }

    /// Runs an adapter call on `key`, mapping its errors (and format errors) to `StoreError`.
    func io<T>(_ key: String, _ body: () throws -> T) throws -> T {
        try StoreError.mapping(key: key, body)
    }
}
