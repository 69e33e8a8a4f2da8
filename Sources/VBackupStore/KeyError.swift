/// Why an encrypted store's key could not be unlocked, created or restored. Each description is
/// one line a user can act on; all of them are raised before the store's objects or the local
/// catalog are touched.
public enum KeyError: Error, Equatable, CustomStringConvertible {
    /// The store is encrypted and the caller gave no way to unlock it.
    case locked(store: String)
    case notEncrypted(store: String)
    /// Neither `keys/` in the store nor the caller named a key file.
    case noKeyFile(store: String)
    case keyFileNotFound(String)
    case keyFileExists(String)
    case invalidKeyFile(String, reason: String)
    /// The passphrase opens none of these key files.
    case wrongPassphrase(keyFiles: [String])
    case foreignKey(keyID: String, store: String)
    case badPassphrase(String)
    /// A paper copy that does not parse; the reason names the line.
    case paper(String)

    public var description: String {
        switch self {
        case .locked(let store):
            return "store \(store) is encrypted: a key file and its passphrase are needed to open it"
        case .notEncrypted(let store): return "store \(store) is not encrypted: it has no key"
        case .noKeyFile(let store):
            return "store \(store) is encrypted and holds no key file under keys/: "
                + "name the key file kept outside the store (--key-file or $VBACKUP_KEY_FILE)"
        case .keyFileNotFound(let path): return "key file \(path) not found"
        case .keyFileExists(let path): return "key file \(path) already exists; it is never overwritten"
        case .invalidKeyFile(let name, let reason): return "\(name) is not a valid vbackup key file: \(reason)"
        case .wrongPassphrase(let files) where files.count == 1: return "wrong passphrase for key file \(files[0])"
        case .wrongPassphrase(let files):
            return "wrong passphrase: it opens none of the \(files.count) key files (\(files.joined(separator: ", ")))"
        case .foreignKey(let keyID, let store): return "key \(keyID) does not belong to store \(store)"
        case .badPassphrase(let why): return "passphrase: \(why)"
        case .paper(let why): return "paper key: \(why)"
        }
    }
}
