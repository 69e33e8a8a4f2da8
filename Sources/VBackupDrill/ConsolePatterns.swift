import Foundation

/// The console check's regular expressions: the line that marks the guest healthy, and the
/// lines that fail the drill at once.
struct ConsolePatterns {
    let success: NSRegularExpression?
    let failures: [(text: String, regex: NSRegularExpression)]

    /// Throws `DrillError.invalidPattern`-style errors naming the pattern that does not compile.
    init(success: String?, failures: [String]) throws {
        self.success = try success.map(Self.compile)
        self.failures = try failures.map { ($0, try Self.compile($0)) }
    }

    var successText: String { success.map { "/\($0.pattern)/" } ?? "-" }

    func matchesSuccess(_ line: String) -> Bool {
        guard let success else { return false }
        return Self.matches(success, line)
    }

    /// The failure pattern `line` matches, if any.
    func failure(in line: String) -> String? {
        failures.first { Self.matches($0.regex, line) }?.text
    }

    private static func matches(_ regex: NSRegularExpression, _ line: String) -> Bool {
        regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
    }

    private static func compile(_ pattern: String) throws -> NSRegularExpression {
        do {
            return try NSRegularExpression(pattern: pattern)
        } catch {
            throw DrillError.tool("'\(pattern)' is not a valid regular expression")
        }
    }
}
