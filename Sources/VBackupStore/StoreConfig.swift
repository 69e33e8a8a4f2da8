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

    public init(format: String, version: Int, id: String, chunkSize: Int, packSize: Int, created: Date) {
        self.format = format
        self.version = version
        self.id = id
        self.chunkSize = chunkSize
        self.packSize = packSize
        self.created = created
    }
}
