import Foundation

/// `config.json`: what makes a location a store, and the parameters fixed at creation.
public struct StoreConfig: Codable, Sendable {
    public var format: String
    public var version: Int
    /// A UUID naming the store; it keys the local catalog cache.
    public var id: String
    public var chunkSize: Int
    public var packSize: Int
    public var created: Date
    /// How objects are sealed; absent (nil) for a plain store, whose `config.json` is then
    /// byte-for-byte what vbackup wrote before encryption existed.
    public var encryption: StoreEncryption?

    public init(
        format: String, version: Int, id: String, chunkSize: Int, packSize: Int, created: Date,
        encryption: StoreEncryption? = nil
    ) {
        self.format = format
        self.version = version
        self.id = id
        self.chunkSize = chunkSize
        self.packSize = packSize
        self.created = created
        self.encryption = encryption
    }
}

/// The `encryption` section of `config.json` (see `StoreFormat`, "Encryption").
public struct StoreEncryption: Codable, Sendable, Equatable {
    public static let aes256GCM = "aes-256-gcm"
    public static let hmacSHA256 = "hmac-sha256"

    /// The object cipher: `aes-256-gcm`.
    public var algorithm: String
    /// How chunk ids are computed: `hmac-sha256` under a key derived from the master key.
    public var chunkID: String
    /// HMAC-SHA256(master key, "vbackup key check") in hex: refuses a key of another store.
    public var keyCheck: String
}
