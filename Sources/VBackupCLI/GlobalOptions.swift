import ArgumentParser
import Foundation
import LocalStorage
import S3Storage
import StorageAdapter
import VBackupStore

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
    static let defaultStore = "/var/lib/vbackup/store"

    @Option(name: .long, help: ArgumentHelp(
        "Store path or URL (default: the config file's, then $VBACKUP_STORE, then \(defaultStore)).", valueName: "path|url"))
    var store: String?

    @Option(name: .long, help: ArgumentHelp("libvirt connection URI.", valueName: "uri"))
    var connect = "qemu:///system"

    @Option(name: .long, help: ArgumentHelp(
        "Key file of an encrypted store kept outside it (default: $VBACKUP_KEY_FILE, else the store's keys/).",
        valueName: "path"))
    var keyFile: String?

    @Option(name: .long, help: ArgumentHelp(
        "File whose first line is the store's passphrase (default: $VBACKUP_PASSPHRASE_FILE, then "
            + "$VBACKUP_PASSPHRASE, then a prompt on the terminal).", valueName: "path"))
    var passphraseFile: String?

    /// The store location and whether it is the built-in default (which `backup` may create).
    func storeLocation() throws -> (location: String, isDefault: Bool) {
        if let store { return (store, false) }
        if let configured = try ConfigFile.load()?.store { return (configured, false) }
        if let env = ProcessInfo.processInfo.environment["VBACKUP_STORE"], !env.isEmpty { return (env, false) }
        return (Self.defaultStore, true)
    }

    var cacheDirectory: URL {
        URL(fileURLWithPath: ProcessInfo.processInfo.environment["VBACKUP_CACHE"] ?? "/var/cache/vbackup")
    }

    /// `--key-file`, else `$VBACKUP_KEY_FILE`: a key file kept outside the store.
    var keyFileURL: URL? {
        guard let path = keyFile ?? ProcessInfo.processInfo.environment["VBACKUP_KEY_FILE"], !path.isEmpty else { return nil }
        return URL(fileURLWithPath: path)
    }

    /// How to unlock the store at `location` if it is encrypted; the passphrase is asked for
    /// only then.
    func keySource(for location: String) -> KeySource {
        KeySource(keyFile: keyFileURL) { [passphraseFile] in
            try Passphrase.read(file: passphraseFile, prompt: "Passphrase for \(location): ")
        }
    }

    /// The named store's adapter, for commands that work on its keys without opening it.
    func existingStoreAdapter() throws -> any StorageAdapter {
        try StoreURL.adapter(for: storeLocation().location, create: false)
    }

    /// Opens the store, unlocking it first when it is encrypted; with `createDefault`, the
    /// built-in default store is created (unencrypted) on first use (an explicitly named store
    /// must be made with `vbackup store init`, so a typo never silently starts a new store).
    func openStore(createDefault: Bool = false) throws -> Store {
        try openStore(storeLocation(), createDefault: createDefault)
    }

    /// The agent's: a policy's own store (which must exist), else the default one, created on
    /// first use as `backup` does.
    func openStore(at policyStore: String?) throws -> Store {
        if let policyStore { return try openStore((policyStore, false), createDefault: false) }
        return try openStore(storeLocation(), createDefault: true)
    }

    private func openStore(_ place: (location: String, isDefault: Bool), createDefault: Bool) throws -> Store {
        let (location, isDefault) = place
        let adapter = try StoreURL.adapter(for: location, create: createDefault && isDefault)
        do {
            return try Store.open(adapter: adapter, cacheDirectory: cacheDirectory, keys: keySource(for: adapter.location))
        } catch StoreError.notAStore where createDefault && isDefault {
            return try Store.create(adapter: adapter, cacheDirectory: cacheDirectory)
        }
    }
}

/// Maps a store path or URL to its storage adapter.
enum StoreURL {
    /// `create`: make the location if it is missing (a local folder, or an S3 bucket; with
    /// `objectLock`, a bucket with S3 Object Lock on, for immutable points).
    static func adapter(for location: String, create: Bool, objectLock: Bool = false) throws -> any StorageAdapter {
        if location.hasPrefix("s3://") {
            let environment = ProcessInfo.processInfo.environment
            let credentials = try S3Credentials.resolve(configured: ConfigFile.load()?.s3?.credentials, environment: environment)
            return try S3StorageAdapter(
                location: S3Location(parsing: location), credentials: credentials, create: create, objectLock: objectLock,
                caBundle: environment["AWS_CA_BUNDLE"])
        }
        if objectLock { throw ValidationError("--object-lock needs an s3:// store: a local directory cannot retain objects") }
        if location.hasPrefix("file://") {
            return try LocalStorageAdapter(root: URL(fileURLWithPath: String(location.dropFirst("file://".count))), create: create)
        }
        if let scheme = location.range(of: "://") {
            throw ValidationError("unsupported store URL scheme '\(location[..<scheme.lowerBound])' (use a path, file:// or s3://)")
        }
        let url = URL(fileURLWithPath: location, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        return try LocalStorageAdapter(root: url.standardizedFileURL, create: create)
    }
}

/// `/etc/vbackup/config.json` (or `$VBACKUP_CONFIG`): host-wide defaults. Keep it readable by
/// root only when it holds S3 keys.
struct ConfigFile: Decodable {
    var store: String?
    /// `"s3": {"accessKeyId": "…", "secretAccessKey": "…"}`: keys for `s3://` stores, used when the
    /// environment has none (before the AWS credentials file).
    var s3: S3Keys?

    struct S3Keys: Decodable {
        var accessKeyId: String
        var secretAccessKey: String
        var sessionToken: String?

        var credentials: S3Credentials {
            S3Credentials(accessKeyID: accessKeyId, secretAccessKey: secretAccessKey, sessionToken: sessionToken)
        }
    }

    static func load() throws -> ConfigFile? {
        let path = ProcessInfo.processInfo.environment["VBACKUP_CONFIG"] ?? "/etc/vbackup/config.json"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(ConfigFile.self, from: data)
        } catch {
            throw ValidationError("\(path) is not valid JSON: \(error)")
        }
    }
}
