import FleetAPI
import Foundation
import Logging

/// Opens (creating when needed) the server's database and brings its schema up to date.
///
/// `location` is `sqlite:PATH`, a plain file path (SQLite), or
/// `postgres://USER:PASS@HOST:PORT/DB` (also `postgresql://`; plain TCP unless
/// `?sslmode=require` or `verify-full`). A malformed location is `FleetError.invalid`; a
/// database that cannot be opened or reached, or whose schema is newer than this build, is
/// `FleetError.database` with the cause.
public func openFleetRepository(_ location: String, logger: Logger) async throws -> any FleetRepository {
    let database = try await openSQLDatabase(DatabaseLocation(location), logger: logger)
    do {
        try await Schema.migrate(database, logger: logger)
    } catch {
        await database.close()
        throw error
    }
    return SQLFleetRepository(database: database)
}

/// Where the database is, as `openFleetRepository` reads its location.
enum DatabaseLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgresql(PostgresLocation)

    init(_ text: String) throws {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("sqlite:") {
            var path = text.dropFirst("sqlite:".count)
            if path.hasPrefix("//") { path = path.dropFirst(2) }
            guard !path.isEmpty else { throw FleetError.invalid("database location sqlite: names no file (sqlite:PATH)") }
            self = .sqlite(path: String(path))
        } else if PostgresLocation.schemes.contains(where: { text.hasPrefix($0 + "://") }) {
            self = .postgresql(try PostgresLocation(url: text))
        } else if text.isEmpty || text.contains("://") {
            let shown = text.isEmpty ? "(empty)" : String(text.prefix { $0 != ":" }) + "://…"
            throw FleetError.invalid("database location \(shown) is neither sqlite:PATH, a file path nor postgres://USER:PASS@HOST:PORT/DB")
        } else {
            self = .sqlite(path: text)
        }
    }
}

/// The engine behind a location, opened (PostgreSQL: reached once, so that a wrong address or
/// password fails here with its reason rather than later in the pool) but not yet migrated.
func openSQLDatabase(_ location: DatabaseLocation, logger: Logger) async throws -> any SQLDatabase {
    switch location {
    case .sqlite(let path):
        return try SQLiteDatabase(path: path)
    case .postgresql(let postgres):
        try await postgres.withConnection(logger: logger) { try await $0.execute("SELECT 1", []) }
        return await PostgresDatabase.start(postgres, logger: logger)
    }
}
