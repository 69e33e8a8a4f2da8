import Foundation

/// How to unlock an encrypted store: which key file, and how to get its passphrase.
public struct KeySource: Sendable {
    /// A key file kept outside the store; nil: the key files under `keys/` in the store.
    public var keyFile: URL?
    /// Called at most once, and only when the store is encrypted, so a plain store never asks.
    public var passphrase: @Sendable () throws -> String

    public init(keyFile: URL? = nil, passphrase: @escaping @Sendable () throws -> String) {
        self.keyFile = keyFile
        self.passphrase = passphrase
    }
}

/// What `Store.create` needs to make an encrypted store.
public struct EncryptionSetup: Sendable {
    public var passphrase: String
    /// Where to keep the key file outside the store; nil: `keys/<id>.json` in the store.
    public var keyFile: URL?
    public var kdf: ScryptParameters

    public init(passphrase: String, keyFile: URL? = nil, kdf: ScryptParameters = .standard) {
        self.passphrase = passphrase
        self.keyFile = keyFile
        self.kdf = kdf
    }
}
