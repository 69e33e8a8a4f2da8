import Foundation

/// `--name value` options after a subcommand; no external parser, so the tool stays one small
/// target on the store's own dependencies.
struct Arguments {
    private var values: [String: String] = [:]

    init(_ words: ArraySlice<String>) throws {
        var rest = words[...]
        while let word = rest.popFirst() {
            guard word.hasPrefix("--"), let value = rest.popFirst() else {
                throw BenchError("expected '--option value', got '\(word)'")
            }
            values[String(word.dropFirst(2))] = value
        }
    }

    func string(_ name: String) throws -> String {
        guard let value = values[name] else { throw BenchError("--\(name) is required") }
        return value
    }

    func string(_ name: String, default value: String) -> String {
        values[name] ?? value
    }

    func int(_ name: String, default value: Int) throws -> Int {
        guard let text = values[name] else { return value }
        guard let number = Int(text.replacingOccurrences(of: "_", with: "")), number >= 0 else {
            throw BenchError("--\(name) wants a whole number, got '\(text)'")
        }
        return number
    }

    func double(_ name: String, default value: Double) throws -> Double {
        guard let text = values[name] else { return value }
        guard let number = Double(text), number >= 0 else { throw BenchError("--\(name) wants a number, got '\(text)'") }
        return number
    }

    /// Fails on options the command does not know (typos would otherwise be ignored).
    func only(_ known: Set<String>) throws {
        if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
            throw BenchError("unknown option --\(unknown)")
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
