import _CryptoExtras
import Crypto
import Foundation

/// scrypt's cost parameters. Each key file records the ones it was sealed with, so new key files
/// can use higher costs while old ones still open.
public struct ScryptParameters: Sendable, Equatable {
    /// CPU/memory cost (a power of two), block size, parallelism. Memory is 128 × N × r × p bytes.
    public var n: Int, r: Int, p: Int

    /// N = 2^16, r = 8, p = 1: 64 MiB, Proxmox Backup Server's choice (restic uses N = 2^15).
    public static let standard = ScryptParameters(n: 1 << 16, r: 8, p: 1)

    public init(n: Int, r: Int, p: Int) {
        self.n = n
        self.r = r
        self.p = p
    }

    /// What a key file may ask for: enough to make guessing expensive (tests use 2^10), not so
    /// much that a doctored key file makes opening a store exhaust memory (2^20 × 8 = 1 GiB).
    var isAcceptable: Bool {
        (1 << 10...1 << 20).contains(n) && n & (n - 1) == 0 && (1...16).contains(r) && (1...4).contains(p)
    }
}

/// A key file (`keys/<id>.json` in the store, or a file kept elsewhere): the store's master key,
/// sealed with AES-256-GCM under a key that scrypt derives from a passphrase. Plain JSON, so the
/// parameters needed to open it are visible; everything that shapes it (id, store, KDF
/// parameters) is authenticated as associated data, so editing any of them fails like a wrong
/// passphrase instead of yielding a different key.
struct KeyFile: Codable, Equatable, Sendable {
    static let formatName = "vbackup-key"
    static let currentVersion = 1
    static let scrypt = "scrypt"

    var format: String
    var version: Int
    /// 16 hex digits, random; names the file `keys/<id>.json`.
    var id: String
    /// The id of the store whose master key this holds.
    var store: String
    var created: Date
    var kdf: KDFSettings
    /// Base64 of `nonce[12] sealed-master-key[32] tag[16]`.
    var masterKey: String

    struct KDFSettings: Codable, Equatable, Sendable {
        var algorithm: String
        var n: Int
        var r: Int
        var p: Int
        /// Base64 of 32 random bytes.
        var salt: String

        var parameters: ScryptParameters { ScryptParameters(n: n, r: r, p: p) }
    }

    var storeKey: String { StoreFormat.keyFileKey(id) }

    /// Seals `master` for `storeID` under a fresh salt and key id.
    static func seal(_ master: MasterKey, storeID: String, passphrase: String, parameters: ScryptParameters) throws -> KeyFile {
        guard !passphrase.isEmpty else { throw KeyError.badPassphrase("it is empty") }
        let salt = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        var file = KeyFile(
            format: formatName, version: currentVersion, id: Hex.encode((0..<8).map { _ in UInt8.random(in: 0...255) }),
            store: storeID, created: Date(),
            kdf: KDFSettings(algorithm: scrypt, n: parameters.n, r: parameters.r, p: parameters.p, salt: salt.base64EncodedString()),
            masterKey: "")
        let wrapping = try file.wrappingKey(passphrase, name: file.storeKey)
        let sealed = try AES.GCM.seal(master.bytes, using: wrapping, authenticating: file.associatedData)
        file.masterKey = sealed.combined!.base64EncodedString()
        return file
    }

    /// The master key, or nil when `passphrase` is not this file's. `name` is for messages.
    func open(passphrase: String, name: String) throws -> MasterKey? {
        guard !passphrase.isEmpty else { throw KeyError.badPassphrase("it is empty") }
        guard let combined = Data(base64Encoded: masterKey), combined.count == ObjectCipher.overhead + MasterKey.byteCount else {
            throw KeyError.invalidKeyFile(name, reason: "masterKey is not 60 base64-encoded bytes")
        }
        let wrapping = try wrappingKey(passphrase, name: name)
        guard let bytes = try? AES.GCM.open(AES.GCM.SealedBox(combined: combined), using: wrapping, authenticating: associatedData)
        else { return nil }
        return MasterKey(key: SymmetricKey(data: bytes))
    }

    func serialized() throws -> Data {
        try StoreJSON.encode(self)
    }

    /// Parses and checks a key file; `name` (its key or path) is for messages.
    static func parse(_ data: Data, name: String) throws -> KeyFile {
        let file: KeyFile
        do {
            file = try StoreJSON.decode(KeyFile.self, from: data)
        } catch {
            throw KeyError.invalidKeyFile(name, reason: "not a key file's JSON")
        }
        guard file.format == formatName else { throw KeyError.invalidKeyFile(name, reason: "format is '\(file.format)'") }
        guard file.version == currentVersion else { throw KeyError.invalidKeyFile(name, reason: "version \(file.version) is not supported") }
        guard file.kdf.algorithm == scrypt, file.kdf.parameters.isAcceptable else {
            throw KeyError.invalidKeyFile(name, reason: "unsupported KDF \(file.kdf.algorithm) N=\(file.kdf.n) r=\(file.kdf.r) p=\(file.kdf.p)")
        }
        guard (try? StoreFormat.validateName(file.id)) != nil else { throw KeyError.invalidKeyFile(name, reason: "bad id '\(file.id)'") }
        return file
    }

    private var associatedData: Data {
        Data("vbackup key file v\(version) \(id) \(store) \(kdf.algorithm) \(kdf.n) \(kdf.r) \(kdf.p)".utf8)
    }

    /// scrypt(passphrase, salt): deliberately slow (about a tenth to a fifth of a second) and
    /// memory-hard, so guessing passphrases offline is expensive.
    private func wrappingKey(_ passphrase: String, name: String) throws -> SymmetricKey {
        guard let salt = Data(base64Encoded: kdf.salt), salt.count >= 16 else {
            throw KeyError.invalidKeyFile(name, reason: "bad KDF salt")
        }
        do {
            return try _CryptoExtras.KDF.Scrypt.deriveKey(
                from: Data(passphrase.utf8), salt: salt, outputByteCount: 32,
                rounds: kdf.n, blockSize: kdf.r, parallelism: kdf.p)
        } catch {
            throw KeyError.invalidKeyFile(name, reason: "scrypt N=\(kdf.n) r=\(kdf.r) p=\(kdf.p) failed (\(error))")
        }
    }
}
