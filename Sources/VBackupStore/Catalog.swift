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
            // Another process (the agent beside a `vbackup` command) may hold the write lock
            // for a moment: wait for it instead of failing at once.
            var configuration = Configuration()
            configuration.busyMode = .timeout(30)
            pool = try DatabasePool(path: directory.appendingPathComponent("catalog.sqlite").path, configuration: configuration)
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
        // v2: a chunk may have several locations (a racing duplicate, a copy rescued from a
        // damaged pack); fragments record the packs they name, so GC and repair know which
        // fragments to rewrite. The chunk index is a cache: it is dropped and re-ingested.
        migrator.registerMigration("v2") { db in
            try db.drop(table: "chunk")
            try db.execute(sql: "DELETE FROM fragment")
            try db.create(table: "chunk", options: [.withoutRowID]) { table in
                table.column("id", .blob).notNull()
                table.column("pack", .text).notNull()
                table.column("offset", .integer).notNull()
                table.column("length", .integer).notNull()
                table.column("rawLength", .integer).notNull()
                table.primaryKey(["id", "pack"])
            }
            try db.create(index: "chunk_pack", on: "chunk", columns: ["pack"])
            try db.create(table: "fragmentPack", options: [.withoutRowID]) { table in
                table.column("fragment", .text).notNull()
                table.column("pack", .text).notNull()
                table.primaryKey(["fragment", "pack"])
            }
            try db.create(index: "fragmentPack_pack", on: "fragmentPack", columns: ["pack"])
            // Objects the last refresh could not read (corrupt fragment or manifest).
            try db.create(table: "problem") { table in
                table.primaryKey("key", .text)
                table.column("reason", .text).notNull()
            }
        }
        // v3: the retention date known for packs in an object-locked store (a lower bound: the
        // storage never shortens one), so backups extend a pack only when it would run out
        // before their point, and GC leaves retained packs alone without asking storage.
        migrator.registerMigration("v3") { db in
            try db.create(table: "packRetention", options: [.withoutRowID]) { table in
                table.primaryKey("pack", .text)
                table.column("until", .double).notNull()
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
    /// Every known location of a chunk (usually one).
    func locations(of id: ChunkID) throws -> [ChunkLocation] {
        try read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT pack, offset, length, rawLength FROM chunk WHERE id = ?")
            return try Row.fetchAll(statement, arguments: [Data(id.bytes)]).map { row in
                ChunkLocation(
                    id: id, pack: row[0], offset: UInt64(row[1] as Int64),
                    length: UInt32(row[2] as Int64), rawLength: UInt32(row[3] as Int64))
            }
        }
    }

    func ingestedFragments() throws -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT key FROM fragment")) }
    }

    /// Records a durable fragment's chunks and the packs it names.
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
            for pack in Set(locations.map(\.pack)) {
                try db.execute(sql: "INSERT OR IGNORE INTO fragmentPack (fragment, pack) VALUES (?, ?)", arguments: [key, pack])
            }
        }
    }

    /// Forgets every chunk and fragment, so they are re-ingested from the store.
    func forgetChunks() throws {
        try write { db in
            try db.execute(sql: "DELETE FROM chunk")
            try db.execute(sql: "DELETE FROM fragment")
            try db.execute(sql: "DELETE FROM fragmentPack")
        }
    }

    /// Forgets fragments that were replaced, and every location in packs that are gone.
    func forget(fragments: some Collection<String>, packs: some Collection<String>) throws {
        try write { db in
            for key in fragments {
                try db.execute(sql: "DELETE FROM fragment WHERE key = ?", arguments: [key])
                try db.execute(sql: "DELETE FROM fragmentPack WHERE fragment = ?", arguments: [key])
            }
            for pack in packs {
                try db.execute(sql: "DELETE FROM chunk WHERE pack = ?", arguments: [pack])
                try db.execute(sql: "DELETE FROM fragmentPack WHERE pack = ?", arguments: [pack])
            }
        }
    }

    /// The packs that `fragments` name.
    func packs(namedBy fragments: some Collection<String>) throws -> Set<String> {
        try read { db in
            var found: Set<String> = []
            let statement = try db.cachedStatement(sql: "SELECT pack FROM fragmentPack WHERE fragment = ?")
            for key in fragments { found.formUnion(try String.fetchAll(statement, arguments: [key])) }
            return found
        }
    }

    /// The fragments that name any of `packs`.
    func fragments(naming packs: some Collection<String>) throws -> Set<String> {
        try read { db in
            var found: Set<String> = []
            let statement = try db.cachedStatement(sql: "SELECT fragment FROM fragmentPack WHERE pack = ?")
            for pack in packs { found.formUnion(try String.fetchAll(statement, arguments: [pack])) }
            return found
        }
    }

    /// The chunks in one pack, in offset order.
    func chunks(inPack pack: String) throws -> [ChunkLocation] {
        try read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT id, offset, length, rawLength FROM chunk WHERE pack = ? ORDER BY offset")
            return try Row.fetchAll(statement, arguments: [pack]).map { row in
                ChunkLocation(
                    id: ChunkID(data: row[0] as Data), pack: pack, offset: UInt64(row[1] as Int64),
                    length: UInt32(row[2] as Int64), rawLength: UInt32(row[3] as Int64))
            }
        }
    }

    /// Calls `body` with every pack the index names and the ids of its chunks, one pack at a
    /// time. Reads only the `chunk_pack` index (no lookup into the table per row), which is
    /// what makes GC's and verify's scans of a million chunks take a second, not several.
    func forEachPackIDs(_ body: (String, [ChunkID]) throws -> Void) throws {
        try read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT pack, id FROM chunk INDEXED BY chunk_pack ORDER BY pack")
            var current: String?
            var ids: [ChunkID] = []
            while let row = try rows.next() {
                let pack: String = row[0]
                if pack != current {
                    if let current { try body(current, ids) }
                    current = pack
                    ids.removeAll(keepingCapacity: true)
                }
                ids.append(ChunkID(data: row[1] as Data))
            }
            if let current { try body(current, ids) }
        }
    }
}

// MARK: - Unreadable objects

extension Catalog {
    /// Replaces the problems found under `prefix` by the latest refresh's.
    func setProblems(_ problems: [String: String], under prefix: String) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM problem WHERE substr(key, 1, ?) = ?", arguments: [prefix.count, prefix])
            for (key, reason) in problems {
                try db.execute(sql: "INSERT OR REPLACE INTO problem (key, reason) VALUES (?, ?)", arguments: [key, reason])
            }
        }
    }

    func problems() throws -> [String: String] {
        try read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT key, reason FROM problem ORDER BY key").map {
                ($0[0] as String, $0[1] as String)
            })
        }
    }
}
