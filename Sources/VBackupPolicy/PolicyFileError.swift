import Yams

/// A policy file that cannot be used, as one line: `file:line: what is wrong`.
public struct PolicyFileError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return "policy file \(place): \(message)"
    }

    init(file: String, yamlError: YamlError) {
        switch yamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let around = context.map { " (\($0.text), line \($0.mark.line))" } ?? ""
            self.init(file: file, line: mark.line, message: "invalid YAML: \(problem)\(around)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            self.init(file: file, line: context.mark.line, message: "invalid YAML: duplicate key \(keys)")
        case .reader(let problem, _, _, _):
            self.init(file: file, line: nil, message: "invalid YAML: \(problem)")
        default:
            self.init(file: file, line: nil, message: "invalid YAML: \(Self.oneLine(yamlError))")
        }
    }

    init(file: String, decodingError: DecodingError, root: Node) {
        let path: [any CodingKey]
        let what: String
        switch decodingError {
        case .typeMismatch(let type, let context):
            path = context.codingPath
            what = "expected \(Self.describe(type))"
        case .valueNotFound(let type, let context):
            path = context.codingPath
            what = "expected \(Self.describe(type)), found nothing"
        case .keyNotFound(let key, let context):
            path = context.codingPath
            let parent = Self.dotted(path)
            self.init(file: file, line: Self.line(of: path, in: root),
                      message: "missing required key '\(key.stringValue)'\(parent.isEmpty ? "" : " in \(parent)")")
            return
        case .dataCorrupted(let context):
            path = context.codingPath
            what = context.debugDescription
        @unknown default:
            self.init(file: file, line: nil, message: Self.oneLine(decodingError))
            return
        }
        let subject = Self.dotted(path)
        self.init(file: file, line: Self.line(of: path, in: root),
                  message: subject.isEmpty ? what : "\(subject): \(what)")
    }

    /// `retention.keep-daily`, `vms[2]`.
    private static func dotted(_ path: [any CodingKey]) -> String {
        path.reduce(into: "") { text, key in
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + key.stringValue
            }
        }
    }

    /// The line of the node at `path` (of its key, for mapping entries), or of the deepest
    /// node on the way that exists.
    static func line(of path: [any CodingKey], in root: Node) -> Int? {
        var node = root
        var line = root.mark?.line
        for key in path {
            if let index = key.intValue, let sequence = node.sequence, index < sequence.count {
                node = sequence[index]
                line = node.mark?.line ?? line
            } else if let mapping = node.mapping,
                      let pair = mapping.first(where: { $0.key.string == key.stringValue }) {
                line = pair.key.mark?.line ?? line
                node = pair.value
            } else {
                break
            }
        }
        return line
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "a non-negative integer"
        case is String.Type: return "a string"
        case is [String].Type: return "a list of strings"
        default: return "a mapping"
        }
    }

    private static func oneLine(_ error: any Error) -> String {
        "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
