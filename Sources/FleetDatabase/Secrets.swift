import Crypto
import FleetAPI
import Foundation

/// Bearer tokens and the digests the database keeps instead of them.
///
/// A token is its kind's prefix (`vba_`, `vbh_`, `vbe_`, `vbs_`) and 32 random bytes in
/// base64url without padding (43 characters). Only `digest(token)` is stored, so a copy of the
/// database grants nothing; a 256-bit random secret needs no salt or slow hash.
enum Secrets {
    static func newToken(_ kind: TokenKind) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return kind.rawValue + base64URL(bytes)
    }

    /// Hex SHA-256 of the token's UTF-8 (prefix included).
    static func digest(_ token: String) -> String {
        sha256Hex(Data(token.utf8))
    }

    static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func newID() -> String {
        UUID().uuidString.lowercased()
    }
}
