import Foundation

/// vbackup's own element in a domain's `<metadata>`: `<vbackup:backup><vbackup:tag>prod</vbackup:tag>…`
/// in its namespace. Pure rendering and parsing; `LibvirtDomain+Metadata` moves it in and out.
///
/// Parsed by hand, not with FoundationXML: on Linux its `XMLDocument` accepts malformed input
/// without throwing (libxml2 recovery mode: a missing end tag, an undefined entity, a bare
/// word all "parse"), prints libxml2's complaints to stderr, and crashes on an empty string.
/// What libvirt returns here is its own libxml2 serialization of one small element, so a
/// strict reader of that subset is both shorter and safer.
enum VbackupMetadata {
    static let namespaceURI = "https://vbackup.dev/xmlns/domain/1"
    static let prefix = "vbackup"

    /// Trims each tag, drops empty ones and repeats (first one wins), so what is written is
    /// exactly what `tags(in:)` will read back.
    static func normalized(_ tags: [String]) -> [String] {
        var seen = Set<String>()
        return tags.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// The element to hand `virDomainSetMetadata`, without namespace: libvirt puts it and its
    /// children into `namespaceURI` under `prefix` itself.
    static func element(tags: [String]) -> String {
        "<backup>" + tags.map { "<tag>\(escaped($0))</tag>" }.joined() + "</backup>"
    }

    /// Text content escaping. Quotes need none outside attributes.
    static func escaped(_ text: String) -> String {
        var out = ""
        for char in text {
            switch char {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(char)
            }
        }
        return out
    }

    /// Tags from the element `virDomainGetMetadata` returns (pretty-printed, unprefixed; the
    /// live XML shows it prefixed): the text of each `tag` child of the root, whatever its
    /// prefix. Comments and CDATA are understood; anything not well-formed throws `xmlError`.
    static func tags(in xml: String) throws -> [String] {
        var rest = Substring(xml)
        var depth = 0, sawRoot = false
        var tags: [String] = []
        var text: String?   // the open `tag`'s text so far
        var textDepth = 0
        while let open = rest.firstIndex(of: "<") {
            if text != nil { text! += try decoded(rest[..<open], in: xml) }
            if depth == 0, !rest[..<open].allSatisfy(\.isWhitespace) { throw malformed(xml) }
            rest = rest[open...]
            if rest.hasPrefix("<!--") {
                rest = try after("-->", in: rest, xml).rest
            } else if rest.hasPrefix("<![CDATA[") {
                let (body, next) = try after("]]>", in: rest.dropFirst(9), xml)
                if text != nil { text! += body }
                rest = next
            } else if rest.hasPrefix("<?") {
                rest = try after("?>", in: rest, xml).rest
            } else {
                let (markup, next) = try after(">", in: rest.dropFirst(), xml)
                rest = next
                let tag = try Markup(markup, in: xml)
                if tag.isEnd {
                    guard depth > 0 else { throw malformed(xml) }
                    depth -= 1
                    if depth == textDepth, let done = text { tags.append(done); text = nil }
                    continue
                }
                guard depth > 0 || !sawRoot else { throw malformed(xml) }   // a second root
                sawRoot = true
                if depth == 1, tag.localName == "tag", text == nil {
                    if tag.isEmpty { continue }
                    text = ""
                    textDepth = 1
                }
                if !tag.isEmpty { depth += 1 }
            }
        }
        guard sawRoot, depth == 0, text == nil, rest.allSatisfy(\.isWhitespace) else { throw malformed(xml) }
        return normalized(tags)
    }

    /// One `<…>` between its brackets: an end tag (`/name`), or a start tag, maybe empty (`…/`).
    private struct Markup {
        let isEnd: Bool
        let isEmpty: Bool
        let localName: Substring

        init(_ markup: Substring, in xml: String) throws {
            isEnd = markup.hasPrefix("/")
            isEmpty = !isEnd && markup.hasSuffix("/")
            let name = markup.drop { $0 == "/" }.prefix { !$0.isWhitespace && $0 != "/" }
            guard !name.isEmpty else { throw malformed(xml) }
            localName = name.split(separator: ":").last ?? name
        }
    }

    /// The text before `terminator`, and what follows it.
    private static func after(_ terminator: String, in text: Substring, _ xml: String) throws -> (body: Substring, rest: Substring) {
        guard let range = text.range(of: terminator) else { throw malformed(xml) }
        return (text[..<range.lowerBound], text[range.upperBound...])
    }

    /// Character data with XML's five entities and numeric references resolved.
    private static func decoded(_ text: Substring, in xml: String) throws -> String {
        var out = "", rest = text
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { throw malformed(xml) }
            let name = rest[rest.index(after: amp)..<semi]
            switch name {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let hex = name.hasPrefix("#x"), dec = name.hasPrefix("#")
                guard hex || dec, let code = UInt32(name.dropFirst(hex ? 2 : 1), radix: hex ? 16 : 10),
                      let scalar = Unicode.Scalar(code), code != 0 else { throw malformed(xml) }
                out.unicodeScalars.append(scalar)
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }

    private static func malformed(_ xml: String) -> LibvirtError {
        LibvirtError(code: LibvirtError.xmlError, domain: 0, message: "malformed vbackup metadata: \(xml.debugDescription)")
    }
}
