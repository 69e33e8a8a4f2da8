import ArgumentParser
import Foundation
import VBackupStore

extension PointsCommand {
    /// `vbackup points forget ID`: removes one point by hand (prune removes them by rule).
    struct Forget: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove one restore point (its metadata; gc frees the space).",
            discussion: """
                Refused for a protected point (points unprotect it first) and for an immutable one \
                (backup --immutable-for) before its date: the storage's object lock keeps it from \
                everyone until then.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Point ID.") var id: String

        func run() throws {
            let store = try global.openStore()
            let point = try store.point(id: id)
            try store.deletePoint(id: id)
            print("removed point \(point.id) of \(point.vmName) (\(Human.date(point.createdAt))); vbackup gc frees its space")
        }
    }
}
