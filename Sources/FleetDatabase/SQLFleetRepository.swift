import FleetAPI
import Foundation

/// The one `FleetRepository`: all of the logic, over `SQLDatabase`, so SQLite and PostgreSQL
/// run the same statements. Its methods live by topic in `SQLFleetRepository+*.swift`;
/// the pure rules they apply (health, overdue, assignment globs, bundle etags, nights) in
/// `FleetRules.swift`.
struct SQLFleetRepository: FleetRepository {
    let database: any SQLDatabase

    var kind: String { database.dialect.rawValue }

    func shutdown() async {
        await database.close()
    }

    /// Runs `body`, replacing the engine's wording of a unique violation (`.conflict`) with
    /// `message`: two requests raced for the same key and the later one lost.
    func explainingConflict<T>(_ message: @autoclosure () -> String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch FleetError.conflict {
            throw FleetError.conflict(message())
        }
    }
}
