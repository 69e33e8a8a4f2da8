import Foundation
import GRDB

/// What this host knows of pack retention (object lock), and which packs hold given chunks.
///
/// A recorded date is one this host set or read back from storage. Storage only ever moves a
/// retention later, so the date is a lower bound that stays true: "retained until at least D".
extension Catalog {
    /// The known retention of each of `packs` that has one.
    func knownRetention(of packs: some Collection<String>) throws -> [String: Date] {
        try read { db in
            let statement = try db.cachedStatement(sql: "SELECT until FROM packRetention WHERE pack = ?")
            var known: [String: Date] = [:]
            for pack in packs {
                if let until = try Double.fetchOne(statement, arguments: [pack]) {
                    known[pack] = Date(timeIntervalSince1970: until)
                }
            }
            return known
        }
    }

    /// Records that `packs` are retained until at least `until` (a later known date stays).
    func recordRetention(_ until: Date, packs: some Collection<String>) throws {
        guard !packs.isEmpty else { return }
        try write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO packRetention (pack, until) VALUES (?, ?)
                ON CONFLICT(pack) DO UPDATE SET until = max(until, excluded.until)
                """)
            for pack in packs { try statement.execute(arguments: [pack, until.timeIntervalSince1970]) }
        }
    }

    /// Forgets deleted packs.
    func forgetRetention(packs: some Collection<String>) throws {
        guard !packs.isEmpty else { return }
        try write { db in
            for pack in packs { try db.execute(sql: "DELETE FROM packRetention WHERE pack = ?", arguments: [pack]) }
        }
    }

    /// Every pack that holds one of `ids`, in one read.
    func packs(holding ids: some Sequence<ChunkID>) throws -> Set<String> {
        try read { db in
            let statement = try db.cachedStatement(sql: "SELECT pack FROM chunk WHERE id = ?")
            var packs: Set<String> = []
            for id in ids { packs.formUnion(try String.fetchAll(statement, arguments: [Data(id.bytes)])) }
            return packs
        }
    }
}
