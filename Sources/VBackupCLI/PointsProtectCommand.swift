import ArgumentParser
import Foundation
import VBackupStore

extension PointsCommand {
    struct Protect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Protect a point: prune keeps it and it cannot be deleted.",
            discussion: "The mark lives in the store, so every host sharing the store honours it.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Point ID.") var id: String

        func run() throws {
            let store = try global.openStore()
            try store.protect(pointID: id)
            let point = try store.point(id: id)
            print("protected point \(point.id) of \(point.vmName) (\(Human.date(point.createdAt)))")
        }
    }

    struct Unprotect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a point's protection, so prune may remove it again.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Point ID.") var id: String

        func run() throws {
            try global.openStore().unprotect(pointID: id)
            print("point \(id) is no longer protected")
        }
    }
}
