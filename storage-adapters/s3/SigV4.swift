import Crypto
import Foundation

/// AWS Signature Version 4 for S3, header form: the `Authorization` header over the method, the
/// path, the query, the signed headers and the payload's SHA-256 (sent as
/// `x-amz-content-sha256`, so S3 also checks that the body arrived intact), or
/// `UNSIGNED-PAYLOAD` in its place.
struct SigV4: Sendable {
    var accessKeyID: String
    var secretAccessKey: String
    var region: String
    var service = "s3"

    /// The `Authorization` header value. `headers` must hold every header to sign: at least
    /// `host`, `x-amz-date` and `x-amz-content-sha256`; names are matched case-insensitively.
    /// `path` is the already-encoded absolute path; `query` the decoded name/value pairs.
    func authorization(method: String, path: String, query: [(String, String)], headers: [(String, String)],
                       payloadHash: String, date: Date) -> String {
        let signed = Self.canonicalHeaders(headers)
        let names = signed.map(\.0).joined(separator: ";")
        let canonicalRequest = [
            method, path, Self.canonicalQuery(query),
            signed.map { "\($0.0):\($0.1)\n" }.joined(), names, payloadHash,
        ].joined(separator: "\n")
        let day = S3Dates.day(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", S3Dates.amzDate(date), scope, Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8)))]
            .joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
        return "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(names), Signature=\(signature)"
    }

    /// Lowercased names, trimmed values with inner runs of spaces folded, sorted by name.
    static func canonicalHeaders(_ headers: [(String, String)]) -> [(String, String)] {
        headers.map { name, value in
            let folded = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            return (name.lowercased(), folded.trimmingCharacters(in: .whitespaces))
        }.sorted { $0.0 < $1.0 }
    }

    static func canonicalQuery(_ query: [(String, String)]) -> String {
        let encoded: [(name: String, value: String)] = query.map { (uriEncode($0.0), uriEncode($0.1)) }
        let sorted = encoded.sorted { a, b in a.name == b.name ? a.value < b.value : a.name < b.name }
        return sorted.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")
    }

    /// RFC 3986 encoding as SigV4 wants it: unreserved characters stay, every other byte is
    /// `%XX` in upper case; `/` too unless `keepSlash` (for paths).
    static func uriEncode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func sha256Hex(_ data: Data) -> String { hex(SHA256.hash(data: data)) }

    static let emptyPayloadHash = sha256Hex(Data())

    /// The payload hash's stand-in for a body that is not signed (its integrity left to TLS).
    static let unsignedPayload = "UNSIGNED-PAYLOAD"
}
