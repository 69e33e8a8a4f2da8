import FleetAPI
import Foundation
import GRDB

/// SQLite through GRDB: one connection (a `DatabaseQueue`) in WAL mode.
///
/// GRDB runs a transaction as one synchronous closure, but the repository's transactions are
/// async (PostgreSQL's are), so a transaction here is BEGIN IMMEDIATE, COMMIT and the
/// statements between them, each a separate hop onto GRDB's queue. `gate` keeps every other
/// statement of this process off the connection meanwhile, which is why
/// `allowsUnsafeTransactions` (a transaction left open between two GRDB accesses) is safe.
/// BEGIN IMMEDIATE and the busy timeout serialize against another process on the same file.
final class SQLiteDatabase: SQLDatabase {
    let dialect = SQLDialect.sqlite
    private let queue: DatabaseQueue
    private let gate = AsyncGate()
    private let path: String

    init(path: String) throws {
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        configuration.busyMode = .timeout(10)
        configuration.label = "vbackup-fleet"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        self.path = path
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw Self.fleetError(error, context: "cannot open \(path)")
        }
    }

    func query(_ sql: String, _ values: [SQLValue]) async throws -> [SQLRow] {
        try await gate.run { try await self.fetch(sql, values) }
    }

    func execute(_ sql: String, _ values: [SQLValue]) async throws {
        _ = try await query(sql, values)
    }

    func transaction<T: Sendable>(_ body: (any SQLExecutor) async throws -> T) async throws -> T {
        try await gate.run {
            try await self.fetch("BEGIN IMMEDIATE", [])
            do {
                let value = try await body(Transaction(database: self))
                try await self.fetch("COMMIT", [])
                return value
            } catch {
                // Not cancellable (a new task): a cancelled request must not leave the
                // connection inside its transaction for the next one.
                await Task { _ = try? await self.fetch("ROLLBACK", []) }.value
                throw error
            }
        }
    }

    func close() async {
        try? queue.close()
    }

    /// One statement on the connection, outside the gate (the caller holds it).
    @discardableResult
    fileprivate func fetch(_ sql: String, _ values: [SQLValue]) async throws -> [SQLRow] {
        do {
            return try await queue.writeWithoutTransaction { db in
                let arguments = StatementArguments(values.map(\.databaseValue))
                return try Row.fetchAll(db, sql: sql, arguments: arguments).map(SQLRow.init)
            }
        } catch {
            throw Self.fleetError(error, context: nil)
        }
    }

    private static func fleetError(_ error: any Error, context: String?) -> FleetError {
        guard let error = error as? DatabaseError else {
            return (error as? FleetError) ?? .database("SQLite: \(error)")
        }
        let message = [context, error.message].compactMap { $0 }.joined(separator: ": ")
        if error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            return .conflict("SQLite: \(message)")
        }
        return .database("SQLite: \(message)")
    }

    /// The statements of an open transaction: they run on the connection the gate already holds.
    private struct Transaction: SQLExecutor {
        let database: SQLiteDatabase

        func query(_ sql: String, _ values: [SQLValue]) async throws -> [SQLRow] {
            try await database.fetch(sql, values)
        }

        func execute(_ sql: String, _ values: [SQLValue]) async throws {
            _ = try await database.fetch(sql, values)
        }
    }
}

private extension SQLValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let number): number.databaseValue
        case .real(let number): number.databaseValue
        case .text(let text): text.databaseValue
        }
    }
}

private extension SQLRow {
    init(_ row: Row) {
        var values: [String: SQLValue] = [:]
        for (column, value) in row {
            switch value.storage {
            case .null: values[column] = .null
            case .int64(let number): values[column] = .integer(number)
            case .double(let number): values[column] = .real(number)
            case .string(let text): values[column] = .text(text)
            case .blob(let data): values[column] = .text(String(decoding: data, as: UTF8.self))
            }
        }
        self.init(values)
    }
}

/// A first-come, first-served async lock: one holder at a time, the others wait without
/// blocking a thread.
final class AsyncGate: Sendable {
    private let state = GateState()

    func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await state.acquire()
        do {
            let value = try await body()
            await state.release()
            return value
        } catch {
            await state.release()
            throw error
        }
    }
}

private actor GateState {
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard held else {
            held = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the gate to the next waiter (it stays held) or opens it.
    func release() {
        if waiting.isEmpty {
            held = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
