/// Markup that is safe to send to a browser.
///
/// Everything a page shows from agents or admins (host and VM names, tags, policy names, error
/// text) is untrusted: an agent can report a VM named `<script>…`. So escaping is the default
/// rather than something each call site remembers: a `String` interpolated into an `HTML`
/// literal is escaped, and only other `HTML` values (built the same way) or the literals
/// written in this module go in as they are. Numbers have their own overloads so no value
/// reaches the page through an unchecked `description`.
struct HTML: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
    private(set) var markup: String

    var description: String { markup }

    /// Literals are written in this module, so they are trusted markup.
    init(stringLiteral literal: String) {
        markup = literal
    }

    init(stringInterpolation: StringInterpolation) {
        markup = stringInterpolation.markup
    }

    static let empty: HTML = ""

    /// Text as it must appear in an element or a quoted attribute value: the five characters
    /// that can end either or start markup are replaced by references.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    struct StringInterpolation: StringInterpolationProtocol {
        var markup = ""

        init(literalCapacity: Int, interpolationCount: Int) {
            markup.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        mutating func appendLiteral(_ literal: String) {
            markup += literal
        }

        /// Untrusted text: escaped.
        mutating func appendInterpolation(_ text: String) {
            markup += HTML.escape(text)
        }

        mutating func appendInterpolation(_ html: HTML) {
            markup += html.markup
        }

        mutating func appendInterpolation(_ parts: [HTML]) {
            for part in parts { markup += part.markup }
        }

        mutating func appendInterpolation<Integer: BinaryInteger>(_ number: Integer) {
            markup += String(number)
        }

        /// SVG coordinates: one decimal is finer than a pixel and keeps the markup short.
        mutating func appendInterpolation(_ number: Double) {
            markup += Format.decimal(number, digits: 1)
        }
    }
}

extension Array where Element == HTML {
    func joined(separator: HTML = .empty) -> HTML {
        HTML(stringLiteral: map(\.markup).joined(separator: separator.markup))
    }
}
