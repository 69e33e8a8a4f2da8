import Foundation
import GRDB

/// The local cache of the store's chunk index and points, in SQLite (WAL, via a `DatabasePool`
/// so that dedup lookups from several threads read concurrently).
///
/// It lives outside the store, per host, at `<cacheDirectory>/<storeID>/catalog.sqlite`. It is
/// only a cache: everything in it can be rebuilt from the store's fragments and manifests.
final class Catalog: Sendable {
    private let pool: DatabasePool

    init(directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            pool = try DatabasePool(path: directory.appendingPathComponent("catalog.sqlite").path)
            try Self.migrator.migrate(pool)
        } catch {
            throw StoreError.catalog("cannot open the catalog in \(directory.path): \(error)")
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "chunk", options: [.withoutRowID]) { table in
                table.primaryKey("id", .blob)
                table.column("pack", .text).notNull()
                table.column("offset", .integer).notNull()
                table.column("length", .integer).notNull()
                table.column("rawLength", .integer).notNull()
            }
            try db.create(table: "fragment") { table in
                table.primaryKey("key", .text)
            }
            try db.create(table: "point") { table in
                table.primaryKey("key", .text)
                table.column("id", .text).notNull().indexed()
                table.column("vmUUID", .text).notNull().indexed()
                table.column("vmName", .text).notNull()
                table.column("createdAt", .double).notNull()
                table.column("manifest", .text).notNull()
            }
        }
        return migrator
    }

    /// Runs a read, reporting SQLite failures as `StoreError.catalog`.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch { throw Self.wrap(error) }
    }

    /// Runs a write transaction, reporting SQLite failures as `StoreError.catalog`.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch { throw Self.wrap(error) }
    }

    private static func wrap(_ error: Error) -> Error {
        error is StoreError ? error : StoreError.catalog("\(error)")
    }
}

// MARK: - Chunks and fragments

extension Catalog {
    func location(of id: ChunkID) throws -> ChunkLocation? {
        try read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT pack, offset, length, rawLength FROM chunk WHERE id = ?")
            guard let row = try Row.fetchOne(statement, arguments: [Data(id.bytes)]) else { return nil }
            return ChunkLocation(
                id: id, pack: row[0], offset: UInt64(row[1] as Int64),
                length: UInt32(row[2] as Int64), rawLength: UInt32(row[3] as Int64))
        }
    }

    func contains(_ id: ChunkID) throws -> Bool {
        try read { db in
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM chunk WHERE id = ?")
            return try Bool.fetchOne(statement, arguments: [Data(id.bytes)]) != nil
        }
    }

    func chunkCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM chunk") ?? 0 }
    }

    func ingestedFragments() throws -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT key FROM fragment")) }
    }

    /// Records a durable fragment's chunks. A chunk already known (another session stored it
    /// too, racing) keeps its first location: both copies are valid.
    func ingest(fragment key: String, locations: [ChunkLocation]) throws {
        try write { db in
            let insert = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO chunk (id, pack, offset, length, rawLength) VALUES (?, ?, ?, ?, ?)")
            for location in locations {
                try insert.execute(arguments: [
                    Data(location.id.bytes), location.pack, Int64(location.offset),
                    Int64(location.length), Int64(location.rawLength),
                ])
            }
            try db.execute(sql: "INSERT OR IGNORE INTO fragment (key) VALUES (?)", arguments: [key])
        }
    }

    /// Forgets every chunk and fragment, so they are re-ingested from the store.
    func forgetChunks() throws {
        try write { db in
            try db.execute(sql: "DELETE FROM chunk")
            try db.execute(sql: "DELETE FROM fragment")
        }
    }
}
