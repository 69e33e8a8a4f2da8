import Foundation

/// An adapter whose backend can itself refuse to delete or overwrite an object before a date
/// (S3 Object Lock in compliance mode). The store uses it for immutable points: what it retains
/// not even someone holding the store's credentials can remove or shorten, so a compromised
/// host cannot destroy the backups it wrote.
///
/// Contract (beyond `StorageAdapter`'s):
/// - `put(_:data:retainUntil:)` writes like `put`, and the written object cannot be deleted
///   or replaced by anyone until `retainUntil` (a later `put` of the key may hide it, never
///   destroy it).
/// - `extendRetention` moves an object's retention to at least `until`; it never shortens one,
///   and asking for an earlier date than the current one succeeds without a change.
/// - `delete` of a retained object throws `StorageError.retained`, naming the date when known.
public protocol RetainingStorageAdapter: StorageAdapter {
    /// Whether this location can retain objects at all (e.g. the bucket has Object Lock on).
    var canRetain: Bool { get }
    func put(_ key: String, data: Data, retainUntil: Date) throws
    func extendRetention(_ key: String, until: Date) throws
    /// The date until which the key's object is retained, nil when it is not.
    func retention(of key: String) throws -> Date?
}

/// Counts of the requests an adapter made, for cost and efficiency reports (requests per GiB).
public struct RequestTally: Sendable, Codable, Equatable {
    public var puts = 0
    public var gets = 0
    public var heads = 0
    public var lists = 0
    public var deletes = 0
    /// Multipart steps, retention, bucket and other calls.
    public var other = 0
    /// Requests sent again after a transient failure (already counted above).
    public var retries = 0
    public var bytesSent = 0
    public var bytesReceived = 0

    public init() {}

    public var total: Int { puts + gets + heads + lists + deletes + other }

    /// What was counted after `earlier` was read.
    public func since(_ earlier: RequestTally) -> RequestTally {
        var delta = RequestTally()
        delta.puts = puts - earlier.puts
        delta.gets = gets - earlier.gets
        delta.heads = heads - earlier.heads
        delta.lists = lists - earlier.lists
        delta.deletes = deletes - earlier.deletes
        delta.other = other - earlier.other
        delta.retries = retries - earlier.retries
        delta.bytesSent = bytesSent - earlier.bytesSent
        delta.bytesReceived = bytesReceived - earlier.bytesReceived
        return delta
    }
}

/// An adapter that counts the requests it makes to its backend.
public protocol RequestCountingStorageAdapter: StorageAdapter {
    var requestTally: RequestTally { get }
}
