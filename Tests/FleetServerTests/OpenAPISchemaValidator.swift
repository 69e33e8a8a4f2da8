import FleetAPI
import Foundation
import Yams

/// A JSON or YAML document as plain values; decoding tries the narrowest type first, so `true`
/// stays a boolean, `3` an integer and `3.5` a number.
indirect enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    static func json(_ data: Data) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: data) }
    static func yaml(_ text: String) throws -> JSONValue { try YAMLDecoder().decode(JSONValue.self, from: text) }

    subscript(_ key: String) -> JSONValue? {
        if case .object(let members) = self { members[key] } else { nil }
    }

    var string: String? { if case .string(let value) = self { value } else { nil } }
    var array: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    var object: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
}

/// The subset of JSON Schema (2020-12, as OpenAPI 3.1 uses it) the document is written in:
/// `$ref` into the document, `type` (a name or a list, which is how nullable is spelt),
/// `required`, `properties`, `additionalProperties`, `items`, `enum`, `oneOf`, `maxItems`, and
/// `format: date-time`. It is strict where the document is meant to be complete: a property the
/// schema does not list is an error unless `additionalProperties` allows it.
struct SchemaValidator {
    let document: JSONValue

    /// Every problem found, as `$.path: what`; empty when `value` conforms.
    func problems(_ value: JSONValue, against schema: JSONValue, at path: String = "$") -> [String] {
        if let reference = schema["$ref"]?.string {
            guard let target = resolve(reference) else { return ["\(path): unresolvable $ref \(reference)"] }
            return problems(value, against: target, at: path)
        }
        if let options = schema["oneOf"]?.array {
            let matching = options.filter { problems(value, against: $0, at: path).isEmpty }.count
            return matching == 1 ? [] : ["\(path): matches \(matching) of the oneOf schemas, not exactly one"]
        }
        var found: [String] = []
        if let types = schema["type"].map(typeNames), !types.contains(where: { conforms(value, to: $0) }) {
            return ["\(path): \(describe(value)) is not \(types.joined(separator: " or "))"]
        }
        if let options = schema["enum"]?.array, !options.contains(value) {
            found.append("\(path): \(describe(value)) is not one of the enum")
        }
        if schema["format"]?.string == "date-time", let text = value.string, APIJSON.parseDate(text) == nil {
            found.append("\(path): '\(text)' is not a date-time")
        }
        if case .object(let members) = value {
            found += objectProblems(members, schema, path)
        }
        if case .array(let elements) = value {
            if case .integer(let most)? = schema["maxItems"], elements.count > most {
                found.append("\(path): \(elements.count) items, at most \(most)")
            }
            if let items = schema["items"] {
                for (index, element) in elements.enumerated() { found += problems(element, against: items, at: "\(path)[\(index)]") }
            }
        }
        return found
    }

    private func objectProblems(_ members: [String: JSONValue], _ schema: JSONValue, _ path: String) -> [String] {
        var found: [String] = []
        for case .string(let key) in schema["required"]?.array ?? [] where members[key] == nil {
            found.append("\(path): required '\(key)' is missing")
        }
        let properties = schema["properties"]?.object ?? [:]
        for (key, member) in members.sorted(by: { $0.key < $1.key }) {
            if let property = properties[key] {
                found += problems(member, against: property, at: "\(path).\(key)")
            } else if let additional = schema["additionalProperties"], additional != .bool(false), additional != .bool(true) {
                found += problems(member, against: additional, at: "\(path).\(key)")
            } else if schema["additionalProperties"] != .bool(true) {
                found.append("\(path): '\(key)' is not in the schema")
            }
        }
        return found
    }

    /// `#/components/schemas/Name` and the like.
    func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#/") else { return nil }
        return reference.dropFirst(2).split(separator: "/").reduce(Optional(document)) { node, key in node?[String(key)] }
    }

    private func typeNames(_ type: JSONValue) -> [String] {
        switch type {
        case .string(let name): [name]
        case .array(let names): names.compactMap(\.string)
        default: []
        }
    }

    private func conforms(_ value: JSONValue, to type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("integer", .integer), ("number", .integer), ("number", .number),
             ("string", .string), ("array", .array), ("object", .object): true
        default: false
        }
    }

    private func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): "'\(value.prefix(40))'"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
