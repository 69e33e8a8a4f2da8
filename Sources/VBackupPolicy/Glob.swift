/// A shell-style name pattern with fnmatch's rules (no flags): `*` matches any run of characters,
/// `?` one character, `[abc]`, `[a-z]` and `[!abc]` (or `[^abc]`) one character of (or not of) a
/// set, and `\` makes the next character literal. It matches the whole name, case-sensitively.
public struct Glob: Hashable, Sendable, CustomStringConvertible {
    enum Token: Hashable, Sendable {
        case literal(Character)
        case one
        case star
        case set([ClosedRange<Character>], negated: Bool)
    }

    /// As written in the policy file.
    public let pattern: String
    let tokens: [Token]

    /// Throws for a `[` without its `]` or a trailing `\`, which fnmatch would quietly read
    /// as literals: in a policy file that is more likely a mistake than a name.
    /// A glob from outside a policy file (a command-line option); nil when it is not valid.
    public init?(validating pattern: String) {
        guard let glob = try? Glob(pattern) else { return nil }
        self = glob
    }

    init(_ pattern: String) throws(PolicyValueError) {
        self.pattern = pattern
        var tokens: [Token] = []
        var rest = Substring(pattern)
        while let character = rest.popFirst() {
            switch character {
            case "*": if tokens.last != .star { tokens.append(.star) }
            case "?": tokens.append(.one)
            case "\\":
                guard let escaped = rest.popFirst() else { throw PolicyValueError("'\(pattern)' ends with a lone \\") }
                tokens.append(.literal(escaped))
            case "[": tokens.append(try Self.set(&rest, in: pattern))
            default: tokens.append(.literal(character))
            }
        }
        self.tokens = tokens
    }

    public var description: String { pattern }

    /// Reads `[...]` after its `[`: a `]` right after `[` or `[!` is a member, as in fnmatch.
    private static func set(_ rest: inout Substring, in pattern: String) throws(PolicyValueError) -> Token {
        var negated = false
        if let first = rest.first, first == "!" || first == "^" {
            negated = true
            rest.removeFirst()
        }
        var ranges: [ClosedRange<Character>] = []
        var first = true
        while let character = rest.popFirst() {
            if character == "]" && !first { return .set(ranges, negated: negated) }
            first = false
            var low = character
            if low == "\\", let escaped = rest.popFirst() { low = escaped }
            if rest.count >= 2, rest.first == "-", let high = rest.dropFirst().first, high != "]" {
                rest.removeFirst(2)
                guard low <= high else { throw PolicyValueError("'\(pattern)' has the backwards range \(low)-\(high)") }
                ranges.append(low...high)
            } else {
                ranges.append(low...low)
            }
        }
        throw PolicyValueError("'\(pattern)' opens a [set] that it never closes")
    }

    /// Whether `name` matches the whole pattern. Greedy with backtracking to the last `*`, so
    /// the cost is at most names × pattern length.
    public func matches(_ name: String) -> Bool {
        let text = Array(name)
        var t = 0, p = 0
        var starP: Int?, starT = 0
        while t < text.count {
            if p < tokens.count, tokens[p] == .star {
                starP = p
                starT = t
                p += 1
            } else if p < tokens.count, Self.token(tokens[p], matches: text[t]) {
                p += 1
                t += 1
            } else if let star = starP {
                p = star + 1
                starT += 1
                t = starT
            } else {
                return false
            }
        }
        while p < tokens.count, tokens[p] == .star { p += 1 }
        return p == tokens.count
    }

    private static func token(_ token: Token, matches character: Character) -> Bool {
        switch token {
        case .literal(let literal): return literal == character
        case .one: return true
        case .star: return false
        case .set(let ranges, let negated): return ranges.contains { $0.contains(character) } != negated
        }
    }
}
