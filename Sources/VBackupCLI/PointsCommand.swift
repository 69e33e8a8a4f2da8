import ArgumentParser
import Foundation
import VBackupModel

/// `vbackup points [VM]` lists points (the default subcommand); `protect` and `unprotect`
/// manage protection marks (`PointsProtectCommand.swift`); `forget` removes a point
/// (`PointsForgetCommand.swift`).
struct PointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "points", abstract: "List restore points; protect them from prune.",
        subcommands: [List.self, Protect.self, Unprotect.self, Forget.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List restore points (the default: `vbackup points [VM]`).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Only this VM's points (name or UUID).") var vm: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let store = try global.openStore()
            let points = try store.listPoints(vm: vm)
            let protected = try store.protectedPointIDs()
            let damaged = try store.damagedPointIDs()
            for (key, reason) in try store.unreadableObjects().sorted(by: { $0.key < $1.key }) {
                FileHandle.standardError.write(Data("vbackup: warning: \(key) is unreadable (\(reason)); run vbackup verify\n".utf8))
            }
            let drills = LastDrill.byPoint(store)
            if json {
                return try JSONOutput.print(points.map {
                    ListedPoint(summary: PointSummary($0), protected: protected.contains($0.id), damaged: damaged.contains($0.id),
                                lastDrill: drills[$0.id])
                })
            }
            let rows = points.map { point -> [String] in
                let modes = point.disks.map { "\($0.target):\($0.mode.rawValue)" }.joined(separator: ",")
                return [point.id, point.vmName, Human.date(point.createdAt), modes, point.consistency.rawValue,
                        Human.bytes(point.logicalSize), Human.bytes(point.bytesRead), Human.bytes(point.bytesStored),
                        protected.contains(point.id) ? "yes" : "", Self.immutability(point), damaged.contains(point.id) ? "DAMAGED" : "",
                        drills[point.id]?.text ?? ""]
            }
            print(Human.table(
                ["ID", "VM", "TIME", "DISKS", "CONSISTENCY", "SIZE", "READ", "NEW", "PROTECTED", "IMMUTABLE", "VERIFY", "DRILL"], rows))
        }

        /// "until <date>" while the object lock holds the point, "expired" after.
        private static func immutability(_ point: PointManifest) -> String {
            guard let until = point.immutableUntil else { return "" }
            return point.isImmutable() ? "until \(Human.date(until))" : "expired"
        }
    }
}

/// A point in `points --json`: the `PointSummary` fields plus `"protected"`, `"damaged"`
/// (marked by verify and not healed since) and `"lastDrill"` (null when never drilled).
struct ListedPoint: Encodable {
    var summary: PointSummary
    var protected: Bool
    var damaged: Bool
    var lastDrill: LastDrill?

    private enum CodingKeys: String, CodingKey { case protected, damaged, lastDrill }

    func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(protected, forKey: .protected)
        try container.encode(damaged, forKey: .damaged)
        try container.encode(lastDrill, forKey: .lastDrill)
    }
}
