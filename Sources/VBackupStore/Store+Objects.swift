import Foundation
import StorageAdapter

/// Whole objects as the format stores them: sealed (`ObjectCipher`) in an encrypted store, as
/// they are in a plain one. Every read and write of a manifest, disk index, index fragment,
/// pack trailer or point object goes through here, so no code path writes plaintext into an
/// encrypted store. Digests that name or check an object (fragment names, `indexDigest`,
/// pack names) are over the stored bytes, so they can be checked without the key.
extension Store {
    /// The bytes to store for `plaintext`.
    func sealed(_ plaintext: Data, kind: ObjectKind) -> Data {
        cipher.seal(plaintext, kind: kind)
    }

    /// The plaintext of stored bytes; throws `FormatError` when they fail to authenticate
    /// (callers name the key through `io`).
    func opened(_ stored: Data, kind: ObjectKind) throws -> Data {
        try cipher.open(stored, kind: kind)
    }

    /// Seals and puts an object (under object lock until `retainUntil` when given); errors as
    /// `StoreError`.
    func putSealed(_ key: String, _ plaintext: Data, kind: ObjectKind, retainUntil: Date? = nil) throws {
        try put(key, data: sealed(plaintext, kind: kind), retainUntil: retainUntil)
    }

    /// Puts stored bytes, under object lock until `retainUntil` when given (the storage must
    /// retain: `Store.beginSession(retainUntil:)` checked it).
    func put(_ key: String, data: Data, retainUntil: Date?) throws {
        guard let retainUntil else { return try io(key) { try adapter.put(key, data: data) } }
        guard let retaining = retainingAdapter else { throw StoreError.noObjectLock(adapter.location) }
        try io(key) { try retaining.put(key, data: data, retainUntil: retainUntil) }
    }

    /// Gets and opens an object. Adapter errors pass through as `StorageError`, so callers can
    /// tell a vanished object (`notFound`) from a corrupt one (`StoreError.corrupt`).
    func getOpened(_ key: String, kind: ObjectKind) throws -> Data {
        let data = try adapter.get(key)
        return try io(key) { try opened(data, kind: kind) }
    }

    /// The blobs of a stored pack, from its (opened) trailer, with two ranged reads.
    func packEntries(_ packID: String) throws -> [ChunkLocation] {
        try Pack.entries(adapter: adapter, packID: packID, cipher: cipher)
    }
}
