import Crypto
import Foundation

/// The master key of an encrypted store (32 random bytes) and the keys derived from it.
///
/// The master key itself never encrypts or hashes anything: HKDF-SHA256 derives one subkey per
/// purpose (AES-256-GCM for objects, HMAC-SHA256 for chunk ids), so the two uses stay
/// independent, and a new purpose can get its own subkey without touching stored data.
///
/// `@unchecked Sendable`: `SymmetricKey` is immutable once made (see `ObjectCipher`).
struct MasterKey: @unchecked Sendable {
    static let byteCount = 32

    let key: SymmetricKey

    static func generate() -> MasterKey {
        MasterKey(key: SymmetricKey(size: .bits256))
    }

    init(key: SymmetricKey) {
        precondition(key.bitCount == Self.byteCount * 8, "a master key is 32 bytes")
        self.key = key
    }

    /// The raw 32 bytes, to seal into a key file.
    var bytes: Data { key.withUnsafeBytes { Data($0) } }

    /// Seals and opens every object of the store.
    var cipher: ObjectCipher { ObjectCipher(key: derive("vbackup object encryption aes-256-gcm v1")) }

    /// Chunk ids (HMAC-SHA256 under a derived key) plus sealed blobs.
    var chunkCodec: ChunkCodec {
        ChunkCodec(idKey: derive("vbackup chunk id hmac-sha256 v1"), cipher: cipher)
    }

    /// HMAC-SHA256(master, "vbackup key check") in hex, recorded in `config.json`: a key that
    /// unlocks but yields another value belongs to another store. Being a PRF output, it tells
    /// nothing about the key.
    var checkValue: String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Data("vbackup key check".utf8), using: key))
    }

    private func derive(_ purpose: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data(purpose.utf8), outputByteCount: 32)
    }
}
