import ArgumentParser
import Foundation
import VBackupStore

struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Create and inspect stores.",
        subcommands: [Init.self, RebuildCatalog.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a new, empty store.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Chunk size in KiB (a power of two, 64 to 16384).") var chunkSize = 256

        func validate() throws {
            guard (64...16384).contains(chunkSize), chunkSize & (chunkSize - 1) == 0 else {
                throw ValidationError("--chunk-size must be a power of two between 64 and 16384 KiB")
            }
        }

        func run() throws {
            let (location, _) = try global.storeLocation()
            let adapter = try StoreURL.adapter(for: location, create: true)
            let store = try Store.create(adapter: adapter, cacheDirectory: global.cacheDirectory, chunkSize: chunkSize * 1024)
            print("created store \(store.config.id) at \(adapter.location)")
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
