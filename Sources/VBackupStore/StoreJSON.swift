import Foundation
import VBackupModel

/// JSON as the store writes it: sorted keys (stable bytes, readable diffs) and ISO 8601 dates
/// with fractional seconds, so a manifest read back equals the one written (to the millisecond).
enum StoreJSON {
    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(withFractions))
        }
        return try encoder.encode(value)
    }

    /// Decodes, accepting ISO 8601 dates with or without fractional seconds.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = try? withFractions.parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 date: \(text)")
        }
        return try decoder.decode(type, from: data)
    }

    private static let withFractions = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// Decodes a manifest read from `key`, reporting bad JSON as corruption of that key.
    static func manifest(_ data: Data, key: String) throws -> PointManifest {
        do {
            return try decode(PointManifest.self, from: data)
        } catch {
            throw StoreError.corrupt(key: key, reason: "not a valid manifest (\(Self.describe(error)))")
        }
    }

    /// A decoding error in a few words (the full description spans lines and paths).
    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): return context.debugDescription
        case DecodingError.keyNotFound(let key, _): return "missing field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "bad value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        default: return "\(error)"
        }
    }
}
