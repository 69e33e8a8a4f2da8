import Crypto
import Foundation

/// What a sealed object is. The kind is authenticated with the object (AES-GCM associated data),
/// so an object cannot be passed off as another kind: a disk index put where a manifest belongs
/// fails to open, as does a chunk blob under another chunk's id.
enum ObjectKind: String, Sendable {
    case chunk
    case packTrailer = "pack-trailer"
    case indexFragment = "index-fragment"
    case diskIndex = "disk-index"
    case manifest
    case pointObject = "point-object"
    case drillRecord = "drill-record"
}

/// Seals and opens whole objects for an encrypted store; passes bytes through untouched for a
/// plain one, so every caller runs the same code for both.
///
/// Envelope: `nonce[12] ciphertext tag[16]` (AES-256-GCM's combined form, 28 bytes of overhead).
/// The store's `config.json` says which algorithm every object uses, so objects carry no header.
/// Nonces are random: safe for about 2^32 objects per key (see `StoreFormat`, "Encryption").
///
/// Thread-safe and cheap to copy: it holds only the key. `@unchecked` because swift-crypto 3
/// does not mark `SymmetricKey` `Sendable`, though it is an immutable buffer once made.
struct ObjectCipher: @unchecked Sendable {
    static let none = ObjectCipher(key: nil)
    static let overhead = 12 + 16

    /// The AES-256-GCM key, nil for a plain store.
    let key: SymmetricKey?

    var isEncrypting: Bool { key != nil }

    func seal(_ plaintext: Data, kind: ObjectKind) -> Data {
        seal(plaintext, associatedData: Self.associatedData(kind))
    }

    func open(_ stored: Data, kind: ObjectKind) throws -> Data {
        try open(stored, associatedData: Self.associatedData(kind))
    }

    /// A chunk blob is bound to its id, so the trailer or index cannot point an id at another
    /// chunk's blob without the read failing.
    func sealChunk(_ blob: Data, id: ChunkID) -> Data {
        seal(blob, associatedData: Self.associatedData(.chunk) + id.bytes)
    }

    func openChunk(_ stored: Data, id: ChunkID) throws -> Data {
        try open(stored, associatedData: Self.associatedData(.chunk) + id.bytes)
    }

    private func seal(_ plaintext: Data, associatedData: [UInt8]) -> Data {
        guard let key else { return plaintext }
        do {
            // `combined` is nonce + ciphertext + tag in one buffer: the envelope, with no copy.
            return try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(), authenticating: associatedData).combined!
        } catch {
            // Only a key or nonce of the wrong size fails, and both are fixed by construction.
            fatalError("AES-GCM seal failed: \(error)")
        }
    }

    private func open(_ stored: Data, associatedData: [UInt8]) throws -> Data {
        guard let key else { return stored }
        guard stored.count >= Self.overhead else {
            throw FormatError(reason: "\(stored.count) bytes is too short for an encrypted object")
        }
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: stored), using: key, authenticating: associatedData)
        } catch {
            throw FormatError(reason: "authentication failed (modified, or sealed with another key or as another kind)")
        }
    }

    private static func associatedData(_ kind: ObjectKind) -> [UInt8] {
        Array("vbackup \(kind.rawValue)\0".utf8)
    }
}
