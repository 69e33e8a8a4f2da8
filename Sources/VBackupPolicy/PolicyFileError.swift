import Yams

/// One problem in a policy file, as one line: `policy file FILE:LINE: what is wrong`.
public struct PolicyFileError: Error, Hashable, Sendable, CustomStringConvertible {
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

    private static func oneLine(_ error: any Error) -> String {
        "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// Every problem found in a policy file (never empty when thrown), one per line: a file is
/// checked to the end so that one run of `vbackup policy check` shows everything to fix.
public struct PolicyFileErrors: Error, Hashable, Sendable, CustomStringConvertible {
    public var errors: [PolicyFileError]

    public init(_ errors: [PolicyFileError]) {
        self.errors = errors
    }

    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
