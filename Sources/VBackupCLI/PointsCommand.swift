import ArgumentParser
import Foundation
import VBackupModel

struct PointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "points", abstract: "List restore points.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Only this VM's points (name or UUID).") var vm: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let points = try global.openStore().listPoints(vm: vm)
        if json { return try JSONOutput.print(points.map(PointSummary.init)) }
        let rows = points.map { point -> [String] in
            let modes = point.disks.map { "\($0.target):\($0.mode.rawValue)" }.joined(separator: ",")
            return [point.id, point.vmName, Human.date(point.createdAt), modes, point.consistency.rawValue,
                    Human.bytes(point.logicalSize), Human.bytes(point.bytesRead), Human.bytes(point.bytesStored)]
        }
        print(Human.table(["ID", "VM", "TIME", "DISKS", "CONSISTENCY", "SIZE", "READ", "NEW"], rows))
    }
}
