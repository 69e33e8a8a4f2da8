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
}
