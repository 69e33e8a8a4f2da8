import ArgumentParser
import Foundation
import VBackupStore

/// `vbackup key …`: the key of an encrypted store. Every subcommand unlocks the key first, so
/// it never exports, restores or rewraps a key that would not open the store.
struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "Back up, restore and re-protect the key of an encrypted store.",
        subcommands: [Export.self, Import.self, Passwd.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a copy of the key file to keep on paper.",
            discussion: """
                Base32 lines, each numbered and with a checksum, so a typo is found and named when it is \
                typed back. The copy is the key file: it still needs the passphrase. The passphrase is \
                asked for first, so only a key that opens the store is exported.
                """)
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print the paper copy (the only export format).") var paper = false

        func validate() throws {
            if !paper { throw ValidationError("give --paper (the only export format)") }
        }

        func run() throws {
            let adapter = try global.existingStoreAdapter()
            print(try StoreKeys.paperCopy(adapter: adapter, keys: global.keySource(for: adapter.location)), terminator: "")
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a key file from its paper copy.",
            discussion: """
                Checks every line and the passphrase, then writes the key file into the store (keys/), \
                or to --key-file. It never replaces an existing key file.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The typed-back paper copy ('-': stdin).", valueName: "file")) var paper: String

        func run() throws {
            let adapter = try global.existingStoreAdapter()
            let text = try readText(paper)
            let written = try StoreKeys.importPaper(text, adapter: adapter, keyFile: global.keyFileURL) {
                try Passphrase.read(file: global.passphraseFile, prompt: "Passphrase of the key: ")
            }
            print("restored key file \(written)")
        }

        private func readText(_ path: String) throws -> String {
            let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path)
            guard let data else { throw ValidationError("cannot read \(path)") }
            return String(decoding: data, as: UTF8.self)
        }
    }

    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change the passphrase of the store's key.",
            discussion: """
                Writes a new key file (new salt, current scrypt costs) before it removes the old one; \
                the master key, and so every stored object, stays the same. Paper copies of the old \
                key file keep working with the old passphrase.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp(
            "File whose first line is the new passphrase (default: $VBACKUP_NEW_PASSPHRASE, then a prompt).",
            valueName: "path"))
        var newPassphraseFile: String?

        func run() throws {
            let adapter = try global.existingStoreAdapter()
            let (old, new) = try StoreKeys.changePassphrase(
                adapter: adapter, keys: global.keySource(for: adapter.location),
                newPassphrase: { try Passphrase.readNew(file: newPassphraseFile) })
            print(old == new ? "passphrase changed: \(new) rewritten" : "passphrase changed: wrote \(new), removed \(old)")
        }
    }
}
