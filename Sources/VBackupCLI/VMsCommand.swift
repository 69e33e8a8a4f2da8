import ArgumentParser
import BackupEngine
import LibvirtClient
import VBackupModel

struct VMsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vms", abstract: "List the host's VMs (running and shut off) and how each disk can be backed up.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let domains = try Discovery(connection: LibvirtConnection(uri: global.connect)).all()
        if json { return try JSONOutput.print(domains) }
        var rows: [[String]] = []
        for domain in domains {
            let tags = domain.tags.isEmpty ? "-" : domain.tags.joined(separator: ",")
            if domain.disks.isEmpty { rows.append([domain.name, domain.state.rawValue, tags, "-", "", "", "", ""]) }
            for (index, disk) in domain.disks.enumerated() {
                rows.append([index == 0 ? domain.name : "", index == 0 ? domain.state.rawValue : "", index == 0 ? tags : "",
                             disk.target, disk.format, Human.bytes(disk.virtualSize), disk.capability.rawValue, disk.sourcePath])
            }
        }
        print(Human.table(["VM", "STATE", "TAGS", "DISK", "FORMAT", "SIZE", "BACKUP", "SOURCE"], rows))
    }
}
