import Foundation
import StorageAdapter
import VBackupModel

/// A content-addressed, deduplicating, compressed store of restore points (see `StoreFormat`).
///
/// Thread-safe: its state is the immutable config, the adapter and the catalog (SQLite, itself
/// thread-safe), so readers and write sessions on many threads share one instance.
public final class Store: @unchecked Sendable {
    public let adapter: any StorageAdapter
    public let config: StoreConfig
    let catalog: Catalog

    private init(adapter: any StorageAdapter, config: StoreConfig, cacheDirectory: URL) throws {
        self.adapter = adapter
        self.config = config
        self.catalog = try Catalog(directory: cacheDirectory.appendingPathComponent(config.id))
    }

    /// Initializes a new store at the adapter's location; fails if `config.json` exists.
    public static func create(
        adapter: any StorageAdapter, cacheDirectory: URL,
        chunkSize: Int = 256 << 10, packSize: Int = 16 << 20
    ) throws -> Store {
        precondition(chunkSize > 0 && chunkSize <= Int(UInt32.max) && packSize > 0, "invalid store geometry")
        let existing = try StoreError.mapping(key: StoreFormat.configKey) { try adapter.stat(StoreFormat.configKey) }
        if existing != nil { throw StoreError.alreadyInitialized(adapter.location) }
        let config = StoreConfig(
            format: StoreFormat.formatName, version: StoreFormat.version, id: UUID().uuidString.lowercased(),
            chunkSize: chunkSize, packSize: packSize, created: Date())
        let data = try StoreJSON.encode(config)
        try StoreError.mapping(key: StoreFormat.configKey) { try adapter.put(StoreFormat.configKey, data: data) }
        return try Store(adapter: adapter, config: config, cacheDirectory: cacheDirectory)
    }

    /// Opens an existing store and brings the local catalog up to date with it.
    public static func open(adapter: any StorageAdapter, cacheDirectory: URL) throws -> Store {
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
        guard config.version == StoreFormat.version else { throw StoreError.unsupportedVersion(config.version) }
        let store = try Store(adapter: adapter, config: config, cacheDirectory: cacheDirectory)
        try store.refresh()
        return store
    }

    /// A sortable point id: UTC time to the second, then 6 random hex digits against collisions
    /// between hosts backing up the same VM in the same second ("20261121T201500Z-1a2b3c").
    public static func newPointID(at date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { value.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        let stamp = "\(c.year ?? 0)\(two(c.month))\(two(c.day))T\(two(c.hour))\(two(c.minute))\(two(c.second))Z"
        let random = String(UInt32.random(in: 0..<0x100_0000), radix: 16)
        return stamp + "-" + String(repeating: "0", count: 6 - random.count) + random
    }

    /// Starts a write session (registering it with every host that shares the store).
    public func beginSession() throws -> WriteSession {
        try WriteSession(store: self)
    }

    /// Runs an adapter call on `key`, mapping its errors (and format errors) to `StoreError`.
    func io<T>(_ key: String, _ body: () throws -> T) throws -> T {
        try StoreError.mapping(key: key, body)
    }
}
