import FleetAPI
import Foundation

/// The one seam between the repository's logic and the two engines: statements with `?`
/// placeholders and bound values, run alone or inside a transaction. The repository writes
/// each statement once; `PostgresDatabase` translates the placeholders, `SQLiteDatabase`
/// passes them through. Engine errors come out as `FleetError` (`.conflict` for a unique
/// violation, `.database` for the rest), errors thrown by a transaction's body unchanged.
protocol SQLDatabase: SQLExecutor {
    var dialect: SQLDialect { get }
    /// Runs `body` between BEGIN and COMMIT (ROLLBACK when it throws), on one connection,
    /// while no other transaction of this process uses that connection.
    func transaction<T: Sendable>(_ body: (any SQLExecutor) async throws -> T) async throws -> T
    /// Closes the connections; the database is unusable afterwards.
    func close() async
}

/// What a statement runs on: the database itself (each statement commits alone) or an open transaction.
protocol SQLExecutor: Sendable {
    /// The rows of a statement (SELECT, or a write with RETURNING).
    func query(_ sql: String, _ values: [SQLValue]) async throws -> [SQLRow]
    /// A statement whose rows, if any, are not needed.
    func execute(_ sql: String, _ values: [SQLValue]) async throws
}

enum SQLDialect: String, Sendable {
    case sqlite
    case postgresql
}

extension SQLExecutor {
    func query(_ sql: String, _ values: any SQLBindable...) async throws -> [SQLRow] {
        try await query(sql, values.map(\.sqlValue))
    }

    func queryFirst(_ sql: String, _ values: any SQLBindable...) async throws -> SQLRow? {
        try await query(sql, values.map(\.sqlValue)).first
    }

    func execute(_ sql: String, _ values: any SQLBindable...) async throws {
        try await execute(sql, values.map(\.sqlValue))
    }
}

/// A bound or stored value. Times are integer milliseconds since 1970, booleans 0 or 1 and
/// lists JSON text, so that the same SQL compares and sorts the same on both engines.
enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// What may be passed as a statement's value.
protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

extension SQLValue: SQLBindable {
    var sqlValue: SQLValue { self }
}

extension String: SQLBindable {
    var sqlValue: SQLValue { .text(self) }
}

extension Int64: SQLBindable {
    var sqlValue: SQLValue { .integer(self) }
}

extension Int: SQLBindable {
    var sqlValue: SQLValue { .integer(Int64(self)) }
}

extension Double: SQLBindable {
    var sqlValue: SQLValue { .real(self) }
}

extension Bool: SQLBindable {
    var sqlValue: SQLValue { .integer(self ? 1 : 0) }
}

extension Date: SQLBindable {
    var sqlValue: SQLValue { .integer(milliseconds) }

    /// Milliseconds since 1970, the unit every time column holds.
    var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    init(milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    var sqlValue: SQLValue { self?.sqlValue ?? .null }
}
