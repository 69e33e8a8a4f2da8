import FleetAPI
import Foundation
import Logging
import PostgresNIO

/// PostgreSQL through PostgresNIO's `PostgresClient` (a connection pool). The pool works only
/// while `client.run()` runs, so `start` runs it in a task and `close` cancels that task and
/// waits for the pool to close.
final class PostgresDatabase: SQLDatabase {
    let dialect = SQLDialect.postgresql
    private let client: PostgresClient
    private let running: Task<Void, Never>
    private let logger: Logger

    private init(client: PostgresClient, running: Task<Void, Never>, logger: Logger) {
        self.client = client
        self.running = running
        self.logger = logger
    }

    /// Returns once the pool's task has entered `run()` (a lease before that works, but logs a warning).
    static func start(_ location: PostgresLocation, logger: Logger) async -> PostgresDatabase {
        let client = PostgresClient(configuration: location.clientConfiguration(), backgroundLogger: logger)
        let (started, signal) = AsyncStream<Never>.makeStream()
        let running = Task {
            signal.finish()
            await client.run()
        }
        for await _ in started {}
        return PostgresDatabase(client: client, running: running, logger: logger)
    }

    func query(_ sql: String, _ values: [SQLValue]) async throws -> [SQLRow] {
        try await Self.mappingErrors {
            try await client.withConnection { connection in
                try await Statement(connection: connection, logger: logger).query(sql, values)
            }
        }
    }

    func execute(_ sql: String, _ values: [SQLValue]) async throws {
        _ = try await query(sql, values)
    }

    func transaction<T: Sendable>(_ body: (any SQLExecutor) async throws -> T) async throws -> T {
        try await Self.mappingErrors {
            try await client.withConnection { connection in
                let statement = Statement(connection: connection, logger: logger)
                try await statement.execute("BEGIN", [])
                do {
                    let value = try await body(statement)
                    try await statement.execute("COMMIT", [])
                    return value
                } catch {
                    // A new task, so that a cancelled request still ends its transaction
                    // before the connection goes back to the pool.
                    await Task { try? await statement.execute("ROLLBACK", []) }.value
                    throw error
                }
            }
        }
    }

    func close() async {
        running.cancel()
        await running.value
    }

    /// PostgresNIO's errors describe themselves as "Generic description to prevent accidental
    /// leakage"; this turns them into one line with the server's message (or the network's).
    static func mappingErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as FleetError {
            throw error
        } catch let error as PSQLError {
            throw fleetError(error)
        } catch {
            throw FleetError.database("PostgreSQL: \(error)")
        }
    }

    static func fleetError(_ error: PSQLError) -> FleetError {
        if let info = error.serverInfo {
            let state = info[.sqlState] ?? ""
            let message = [info[.message], info[.detail]].compactMap { $0 }.joined(separator: ": ")
            // 23505 unique_violation: another transaction stored the same key first.
            return state == "23505" ? .conflict("PostgreSQL: \(message)") : .database("PostgreSQL: \(message) (SQLSTATE \(state))")
        }
        if let underlying = error.underlying {
            return .database("PostgreSQL: \(error.code): \(underlying)")
        }
        return .database("PostgreSQL: \(error.code)")
    }

    /// Statements on one leased connection: inside a transaction, or a single one alone.
    struct Statement: SQLExecutor {
        let connection: PostgresConnection
        let logger: Logger

        func query(_ sql: String, _ values: [SQLValue]) async throws -> [SQLRow] {
            var rows: [SQLRow] = []
            for try await row in try await connection.query(Self.query(sql, values), logger: logger) {
                rows.append(try SQLRow(row))
            }
            return rows
        }

        func execute(_ sql: String, _ values: [SQLValue]) async throws {
            for try await _ in try await connection.query(Self.query(sql, values), logger: logger) {}
        }

        static func query(_ sql: String, _ values: [SQLValue]) -> PostgresQuery {
            var bindings = PostgresBindings(capacity: values.count)
            for value in values {
                switch value {
                case .null: bindings.appendNull()
                case .integer(let number): bindings.append(number)
                case .real(let number): bindings.append(number)
                case .text(let text): bindings.append(text)
                }
            }
            return PostgresQuery(unsafeSQL: numberingPlaceholders(sql), binds: bindings)
        }
    }
}

/// `?` placeholders (the repository's, SQLite's) as PostgreSQL's `$1`, `$2`, …; a `?` inside a
/// quoted literal or identifier stays as it is.
func numberingPlaceholders(_ sql: String) -> String {
    var result = ""
    var number = 0
    var quote: Character?
    for character in sql {
        if let open = quote {
            if character == open { quote = nil }
            result.append(character)
        } else if character == "'" || character == "\"" {
            quote = character
            result.append(character)
        } else if character == "?" {
            number += 1
            result += "$\(number)"
        } else {
            result.append(character)
        }
    }
    return result
}

private extension SQLRow {
    /// The types the schema uses: BIGINT (and COUNT's int8), DOUBLE PRECISION and TEXT.
    init(_ row: PostgresRow) throws {
        var values: [String: SQLValue] = [:]
        for cell in row {
            values[cell.columnName] = try SQLValue(cell)
        }
        self.init(values)
    }
}

private extension SQLValue {
    init(_ cell: PostgresCell) throws {
        guard cell.bytes != nil else {
            self = .null
            return
        }
        switch cell.dataType {
        case .int2, .int4, .int8: self = .integer(try cell.decode(Int64.self))
        case .float4, .float8: self = .real(try cell.decode(Double.self))
        case .bool: self = .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .text, .varchar, .bpchar, .name: self = .text(try cell.decode(String.self))
        default: throw FleetError.database("PostgreSQL column \(cell.columnName) has type \(cell.dataType), which the repository does not read")
        }
    }
}
