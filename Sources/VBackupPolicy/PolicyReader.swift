import Foundation
import Yams

/// The entries of one YAML mapping of a policy file, after its keys were checked.
struct Fields {
    /// Dotted path of the mapping ("" at the top, "throttle", "schedule[0]").
    let path: String
    private let entries: [String: (key: Node, value: Node)]

    init(path: String, entries: [String: (key: Node, value: Node)]) {
        self.path = path
        self.entries = entries
    }

    subscript(key: String) -> Node? { entries[key]?.value }

    func keyLine(_ key: String) -> Int? { entries[key]?.key.mark?.line }

    /// The dotted path of one of the keys: `throttle.cpu`.
    func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}

/// Reads values out of a policy file's YAML node tree and collects every error on the way,
/// each with its line, instead of stopping at the first (as `Decodable` would). Each method
/// returns nil after recording an error; the caller goes on with the next key.
struct PolicyReader {
    let file: String
    private(set) var errors: [PolicyFileError] = []

    init(file: String) {
        self.file = file
    }

    mutating func record(_ error: PolicyFileError) {
        errors.append(error)
    }

    mutating func report(line: Int?, _ path: String, _ message: String) {
        errors.append(PolicyFileError(file: file, line: line, message: path.isEmpty ? message : "\(path): \(message)"))
    }

    mutating func report(_ node: Node, _ path: String, _ message: String) {
        report(line: node.mark?.line, path, message)
    }

    /// A mapping whose keys are all `known` (each unknown key is an error, with a hint if
    /// `hints` has one) and include `required`. Nil if `node` is not a mapping.
    mutating func fields(
        _ node: Node, path: String, known: [String], required: [String] = [], hints: [String: String] = [:]
    ) -> Fields? {
        guard case .mapping(let mapping) = node else {
            report(node, path, "expected a mapping (key: value lines), found \(Self.found(node))")
            return nil
        }
        var entries: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                report(key, path, "a key must be a plain word, found \(Self.found(key))")
                continue
            }
            guard known.contains(scalar.string) else {
                let hint = hints[scalar.string] ?? "known: \(known.joined(separator: ", "))"
                report(key, path.isEmpty ? scalar.string : "\(path).\(scalar.string)", "unknown key '\(scalar.string)' (\(hint))")
                continue
            }
            entries[scalar.string] = (key, value)
        }
        for key in required where entries[key] == nil {
            report(line: node.mark?.line, "", "missing required key '\(key)'" + (path.isEmpty ? "" : " in \(path)"))
        }
        return Fields(path: path, entries: entries)
    }

    /// The text of a scalar that is not empty; `expected` says what it should have been.
    mutating func text(_ node: Node, _ path: String, expected: String) -> String? {
        guard case .scalar(let scalar) = node, !Self.isNull(node) else {
            report(node, path, "expected \(expected), found \(Self.found(node))")
            return nil
        }
        return scalar.string
    }

    /// A scalar converted by `convert`, whose `PolicyValueError` becomes the message. Nil for a
    /// missing key, with no error: the caller applies its default.
    mutating func value<T>(
        _ node: Node?, _ path: String, expected: String, _ convert: (String) throws(PolicyValueError) -> T
    ) -> T? {
        guard let node, let text = text(node, path, expected: expected) else { return nil }
        do {
            return try convert(text)
        } catch {
            report(node, path, error.message)
            return nil
        }
    }

    /// A whole number in `range`; `expected` describes the range ("a whole number from 0 to 100").
    mutating func integer(_ node: Node?, _ path: String, in range: ClosedRange<Int>, expected: String) -> Int? {
        guard let node, let text = text(node, path, expected: expected) else { return nil }
        guard let value = Int(text) else {
            report(node, path, "expected \(expected), found '\(text)'")
            return nil
        }
        guard range.contains(value) else {
            report(node, path, "must be \(expected), not \(value)")
            return nil
        }
        return value
    }

    /// The items of a list; nil (after an error) if `node` is not a list or is empty. An empty
    /// list is refused because it reads as "none" while leaving the key out means "all".
    mutating func items(_ node: Node, _ path: String, expected: String, ifEmpty: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            report(node, path, "expected \(expected), found \(Self.found(node))")
            return nil
        }
        guard !sequence.isEmpty else {
            report(node, path, ifEmpty)
            return nil
        }
        return Array(sequence)
    }

    /// A non-empty list of non-empty strings, each converted by `convert`.
    mutating func list<T>(
        _ node: Node?, _ path: String, ifEmpty: String, _ convert: (String) throws(PolicyValueError) -> T
    ) -> [T]? {
        guard let node, let items = items(node, path, expected: "a list such as [a, b]", ifEmpty: ifEmpty) else { return nil }
        var values: [T] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard let text = text(item, itemPath, expected: "a string") else { continue }
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                report(item, itemPath, "is blank")
                continue
            }
            do {
                values.append(try convert(text))
            } catch {
                report(item, itemPath, error.message)
            }
        }
        return values.count == items.count ? values : nil
    }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// What a node is, for "expected X, found Y".
    static func found(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let scalar): return isNull(node) ? "nothing" : "'\(scalar.string)'"
        case .alias: return "an alias"
        }
    }
}
