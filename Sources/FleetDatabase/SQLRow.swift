import FleetAPI
import Foundation

/// One result row by column name (as the statement spells its lower-case names or aliases).
/// A value of the wrong type is a `FleetError.database` naming the column, never a crash.
struct SQLRow: Sendable {
    private let values: [String: SQLValue]

    init(_ values: [String: SQLValue]) {
        self.values = values
    }

    func value(_ column: String) throws -> SQLValue {
        guard let value = values[column] else {
            throw FleetError.database("database row has no column \(column)")
        }
        return value
    }

    func string(_ column: String) throws -> String {
        guard let value = try optionalString(column) else { throw mismatch(column, "text") }
        return value
    }

    func optionalString(_ column: String) throws -> String? {
        switch try value(column) {
        case .null: return nil
        case .text(let text): return text
        default: throw mismatch(column, "text")
        }
    }

    func int64(_ column: String) throws -> Int64 {
        guard let value = try optionalInt64(column) else { throw mismatch(column, "integer") }
        return value
    }

    func optionalInt64(_ column: String) throws -> Int64? {
        switch try value(column) {
        case .null: return nil
        case .integer(let number): return number
        default: throw mismatch(column, "integer")
        }
    }

    func int(_ column: String) throws -> Int {
        Int(try int64(column))
    }

    func bool(_ column: String) throws -> Bool {
        try int64(column) != 0
    }

    func double(_ column: String) throws -> Double {
        guard let value = try optionalDouble(column) else { throw mismatch(column, "number") }
        return value
    }

    /// REAL, or INTEGER (SQLite keeps a whole number stored in a REAL column as written).
    func optionalDouble(_ column: String) throws -> Double? {
        switch try value(column) {
        case .null: return nil
        case .real(let number): return number
        case .integer(let number): return Double(number)
        default: throw mismatch(column, "number")
        }
    }

    func date(_ column: String) throws -> Date {
        Date(milliseconds: try int64(column))
    }

    func optionalDate(_ column: String) throws -> Date? {
        try optionalInt64(column).map(Date.init(milliseconds:))
    }

    /// A column written with `JSONColumn.encode`.
    func json<T: Decodable>(_ column: String, as type: T.Type) throws -> T {
        try JSONColumn.decode(type, from: string(column), column: column)
    }

    private func mismatch(_ column: String, _ expected: String) -> FleetError {
        .database("database column \(column): expected \(expected), found \(String(describing: values[column] ?? .null))")
    }
}

/// Lists and maps (tags, disks, groups, policy errors) live in TEXT columns as JSON, the one
/// representation both engines store and return byte for byte.
enum JSONColumn {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String, column: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw FleetError.database("database column \(column) holds malformed JSON: \(error)")
        }
    }
}
