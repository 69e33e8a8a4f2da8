import Foundation

/// A small reader for the few XML documents S3 answers with (listings, errors, upload ids,
/// retention). It finds elements by name and decodes their text; it is no general XML parser,
/// which these flat, namespace-free documents do not need (and FoundationXML has crashed under
/// concurrency on these hosts).
struct S3XML: Sendable {
    private let bytes: [UInt8]
    private let range: Range<Int>

    init(_ data: Data) {
        bytes = Array(data)
        range = 0..<bytes.count
    }

    private init(bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.range = range
    }

    /// Each `<name>…</name>` (or `<name/>`) inside this one, in document order.
    func elements(_ name: String) -> [S3XML] {
        let open = Array("<\(name)".utf8), close = Array("</\(name)>".utf8)
        var found: [S3XML] = []
        var index = range.lowerBound
        while let start = find(open, from: index) {
            let after = start + open.count
            guard after < range.upperBound, let tagEnd = find([UInt8(ascii: ">")], from: after) else { break }
            switch bytes[after] {
            case UInt8(ascii: ">"), UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "/"):
                if bytes[tagEnd - 1] == UInt8(ascii: "/") {
                    found.append(S3XML(bytes: bytes, range: tagEnd + 1..<tagEnd + 1))
                    index = tagEnd + 1
                    continue
                }
                guard let end = find(close, from: tagEnd + 1) else { return found }
                found.append(S3XML(bytes: bytes, range: tagEnd + 1..<end))
                index = end + close.count
            default:
                index = after  // a longer name that starts with this one (`<KeyMarker` for `Key`)
            }
        }
        return found
    }

    /// The decoded text of the first `<name>` element, nil when there is none.
    func value(_ name: String) -> String? { elements(name).first?.text }

    /// This element's content with the five entities and numeric references decoded.
    var text: String {
        let raw = String(decoding: bytes[range], as: UTF8.self)
        guard raw.contains("&") else { return raw }
        var out = ""
        var rest = Substring(raw)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else { break }
            let entity = rest[rest.index(after: amp)..<semicolon]
            out += Self.decode(entity) ?? String(rest[amp...semicolon])
            rest = rest[rest.index(after: semicolon)...]
        }
        return out + rest
    }

    private static func decode(_ entity: Substring) -> String? {
        switch entity {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        case "apos": return "'"
        default:
            guard entity.hasPrefix("#") else { return nil }
            let digits = entity.dropFirst()
            let code = digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits)
            return code.flatMap(Unicode.Scalar.init).map { String(Character($0)) }
        }
    }

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, needle.count <= range.upperBound - start else { return nil }
        var index = start
        let last = range.upperBound - needle.count
        while index <= last {
            if bytes[index] == first && bytes[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// Escapes text for an element's content in a request body.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
