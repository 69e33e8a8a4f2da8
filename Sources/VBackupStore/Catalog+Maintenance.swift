import Foundation
import GRDB

extension Catalog {
    /// Every point's manifest key and cached JSON.
    func pointEntries() throws -> [(key: String, json: String)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT key, manifest FROM point ORDER BY createdAt, id").map { ($0[0], $0[1]) }
        }
    }
}
