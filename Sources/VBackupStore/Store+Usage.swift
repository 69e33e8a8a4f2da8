import Foundation
import GRDB

/// How much a store holds, for the agent's reports to the policy server.
public struct StoreUsage: Sendable, Equatable {
    public var points: Int
    /// The sum of every point's disk sizes: what restoring every point would write.
    public var logicalBytes: UInt64
    /// Bytes of pack objects: what the store's chunk data occupies in its storage.
    public var storedBytes: UInt64

    public init(points: Int, logicalBytes: UInt64, storedBytes: UInt64) {
        self.points = points
        self.logicalBytes = logicalBytes
        self.storedBytes = storedBytes
    }
}

extension Store {
    /// Totals from the local catalog (points, logical sizes: one SQL aggregate, no manifest is
    /// decoded) and one listing of the packs, without a refresh: cheap enough to run after every
    /// job. Points another host added since this one's last refresh are not counted yet.
    public func usage() throws -> StoreUsage {
        let (points, logical) = try catalog.read { db -> (Int, Int64) in
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*) AS points,
                       COALESCE(SUM((SELECT SUM(json_extract(disk.value, '$.virtualSize'))
                                     FROM json_each(point.manifest, '$.disks') AS disk)), 0) AS logical
                FROM point
                """)
            return (row?["points"] ?? 0, row?["logical"] ?? 0)
        }
        let packs = try io("packs/") { try adapter.list(prefix: "packs/") }
        return StoreUsage(points: points, logicalBytes: UInt64(max(0, logical)),
                          storedBytes: packs.reduce(0) { $0 + UInt64(max(0, $1.size)) })
    }
}
