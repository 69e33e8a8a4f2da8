import ArgumentParser
import Foundation
import VBackupStore

struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Create and inspect stores.",
        subcommands: [Init.self, RebuildCatalog.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new, empty store.",
            discussion: """
                --encryption is required, so the choice is made on purpose. An encrypted store seals every \
                chunk, index and manifest with AES-256-GCM under a master key kept in a key file, itself \
                protected by a passphrase (scrypt). The key file goes into the store (keys/) unless \
                --key-file names a path outside it; then that file is needed, with its passphrase, to \
                open the store. Keep a paper copy: vbackup key export --paper.
                """)

        enum Encryption: String, ExpressibleByArgument, CaseIterable {
            case aes256GCM = "aes-256-gcm"
            case none
        }

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("Encrypt the store, or not.", valueName: "aes-256-gcm|none")) var encryption: Encryption
        @Option(help: "Chunk size in KiB (a power of two, 64 to 16384).") var chunkSize = 256
        @Flag(help: "Create the S3 bucket with Object Lock, so points can be made immutable (backup --immutable-for).")
        var objectLock = false

        func validate() throws {
            guard (64...16384).contains(chunkSize), chunkSize & (chunkSize - 1) == 0 else {
                throw ValidationError("--chunk-size must be a power of two between 64 and 16384 KiB")
            }
            if encryption == .none && global.keyFile != nil {
                throw ValidationError("--key-file is only for encrypted stores (--encryption aes-256-gcm)")
            }
        }

        func run() throws {
            let (location, _) = try global.storeLocation()
            let adapter = try StoreURL.adapter(for: location, create: true, objectLock: objectLock)
            let setup = try encryption == .none ? nil : EncryptionSetup(
                passphrase: Passphrase.read(file: global.passphraseFile, prompt: "New passphrase for the store: ", confirm: true),
                keyFile: global.keyFileURL)
            let store = try Store.create(
                adapter: adapter, cacheDirectory: global.cacheDirectory, chunkSize: chunkSize * 1024, encryption: setup)
            if objectLock { print("object lock: on; points can be made immutable (vbackup backup --immutable-for 30d)") }
            guard let setup else { return print("created store \(store.config.id) at \(adapter.location) (not encrypted)") }
            print("created encrypted store \(store.config.id) at \(adapter.location) (aes-256-gcm)")
            if let keyFile = setup.keyFile {
                print("key file: \(keyFile.path), outside the store: the store cannot be opened without it and its passphrase")
            } else {
                print("key file: in the store under keys/; the store cannot be opened without its passphrase")
            }
            print("keep a copy of the key on paper: vbackup key export --paper")
        }
    }

    struct RebuildCatalog: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rebuild-catalog", abstract: "Rebuild the local catalog (SQLite cache) from the store alone.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let store = try global.openStore()
            try store.rebuildCatalog()
            print("catalog rebuilt: \(try store.listPoints().count) points")
        }
    }
}
