import Crypto
import Foundation

/// A key file as text a person can keep on paper and type back: base32 lines, each with its
/// number and a checksum, so a typo is found and named line by line instead of surfacing as a
/// "wrong passphrase" later. The copy is the key file itself: it still needs the passphrase.
///
/// ```
/// vbackup paper key v1
/// store 0b7d3a52-7f4e-4c1e-9a51-3c2d1e0f9a88
/// key 3f2a9c1e5b7d8a40
/// 01 PMRGG3TP NZ2GK3TU EI5CE6RR GEYDOMJS XK3Q
/// …
/// end 15 9f3ab2c1
/// ```
///
/// Data lines carry 20 bytes as 32 base32 letters (RFC 4648, A–Z 2–7) in groups of 8, then 4
/// letters of SHA-256("vbackup paper <n>" + bytes): a mistyped letter or a swapped line fails its
/// own check (1 in a million passes by chance). `end` gives the line count and the start of the
/// SHA-256 of all bytes. Reading is lenient where people are: case, spacing, 0/1/8 for O/I/B,
/// blank lines and `#` comments.
enum PaperKey {
    static let header = "vbackup paper key v1"
    static let bytesPerLine = 20

    struct Contents: Equatable {
        var storeID: String
        var keyID: String
        var payload: Data
    }

    static func encode(_ contents: Contents) -> String {
        var lines = [header, "store \(contents.storeID)", "key \(contents.keyID)",
                     "# restore with: vbackup key import --paper FILE (needs the passphrase)"]
        let chunks = stride(from: 0, to: contents.payload.count, by: bytesPerLine).map {
            contents.payload[contents.payload.startIndex + $0..<min(contents.payload.startIndex + $0 + bytesPerLine, contents.payload.endIndex)]
        }
        for (index, chunk) in chunks.enumerated() {
            let letters = Base32.encode(chunk)
            let groups = stride(from: 0, to: letters.count, by: 8).map { letters.dropFirst($0).prefix(8) }
            lines.append("\(number(index + 1)) \(groups.joined(separator: " ")) \(checksum(line: index + 1, chunk))")
        }
        lines.append("end \(chunks.count) \(Hex.encode(SHA256.hash(data: contents.payload).prefix(4)))")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses a typed-back copy; every error names the line to look at.
    static func decode(_ text: String) throws -> Contents {
        var fields: [String: String] = [:]
        var payload = Data()
        var expected = 1
        var end: (count: Int, digest: String)?
        // `isNewline`, not "\n": Swift reads "\r\n" as one character, which "\n" does not match.
        for (offset, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let tokens = raw.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let first = tokens.first, !first.hasPrefix("#"), end == nil else { continue }
            if raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() == header {
                fields["header"] = header
            } else if ["store", "key"].contains(first.lowercased()), tokens.count == 2 {
                fields[first.lowercased()] = tokens[1].lowercased()
            } else if first.lowercased() == "end", tokens.count == 3, let count = Int(tokens[1]) {
                end = (count, tokens[2].lowercased())
            } else if let lineNumber = Int(first), tokens.count >= 3 {
                guard lineNumber == expected else {
                    throw KeyError.paper(lineNumber > expected ? "line \(number(expected)) is missing" : "line \(number(lineNumber)) appears twice or out of order")
                }
                payload.append(try dataLine(lineNumber, letters: tokens.dropFirst().dropLast().joined(), check: tokens.last!))
                expected += 1
            } else {
                throw KeyError.paper("input line \(offset + 1) is not part of a paper key: '\(raw.prefix(40))'")
            }
        }
        guard fields["header"] != nil else { throw KeyError.paper("the first line must be '\(header)'") }
        guard let storeID = fields["store"], let keyID = fields["key"] else { throw KeyError.paper("the 'store' or 'key' line is missing") }
        guard let end else { throw KeyError.paper("the 'end' line is missing (or line \(number(expected)) and after)") }
        guard end.count == expected - 1 else { throw KeyError.paper("line \(number(expected)) is missing (the end line says \(end.count) lines)") }
        guard Hex.encode(SHA256.hash(data: payload).prefix(4)) == end.digest else {
            throw KeyError.paper("every line checks, but the end line's digest does not match: check the end line")
        }
        return Contents(storeID: storeID, keyID: keyID, payload: payload)
    }

    private static func dataLine(_ line: Int, letters: String, check: String) throws -> Data {
        let bytes: Data
        do {
            bytes = try Base32.decode(letters)
        } catch let error as Base32.BadLetter {
            throw KeyError.paper("line \(number(line)): '\(error.letter)' is not a base32 letter (A-Z, 2-7)")
        }
        guard checksum(line: line, bytes) == Base32.normalize(check) else {
            throw KeyError.paper("line \(number(line)) does not match its checksum: a letter on it is mistyped")
        }
        return bytes
    }

    private static func checksum(line: Int, _ bytes: Data) -> String {
        var hash = SHA256()
        hash.update(data: Data("vbackup paper \(line)".utf8))
        hash.update(data: bytes)
        return String(Base32.encode(Data(hash.finalize().prefix(3))).prefix(4))
    }

    private static func number(_ line: Int) -> String {
        line < 10 ? "0\(line)" : "\(line)"
    }
}

/// RFC 4648 base32 without padding, as typed by people.
enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    struct BadLetter: Error {
        let letter: Character
    }

    static func encode(_ bytes: Data) -> String {
        var out = ""
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = buffer << 8 | Int(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[(buffer >> bits) & 31])
            }
            buffer &= (1 << bits) - 1
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return out
    }

    static func decode(_ text: String) throws -> Data {
        var out = Data()
        var buffer = 0, bits = 0
        for letter in normalize(text) {
            guard let value = alphabet.firstIndex(of: letter) else { throw BadLetter(letter: letter) }
            buffer = buffer << 5 | value
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> bits) & 0xFF))
                buffer &= (1 << bits) - 1
            }
        }
        return out
    }

    /// Upper case, and the digits people type for the letters they resemble.
    static func normalize(_ text: String) -> String {
        String(text.uppercased().map { letter -> Character in
            switch letter {
            case "0": return "O"
            case "1": return "I"
            case "8": return "B"
            default: return letter
            }
        })
    }
}
