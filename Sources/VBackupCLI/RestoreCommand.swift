import ArgumentParser
import BackupEngine
import Foundation
import LibvirtClient

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore", abstract: "Restore from a point.", subcommands: [VM.self])

    struct VM: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "vm",
            abstract: "Restore a VM's disks (and optionally its definition) from a point.",
            discussion: """
                Images are written sparse as <dir>/<name>-<disk>.<format>, under a temporary name until \
                every disk is complete. --define defines a new domain from the saved XML with a new name \
                and UUID, the restored disks, new MAC addresses and its own console logs, so it never \
                clashes with the original VM.

                --instant runs that VM at once, before anything is copied: the point is served \
                read-only over NBD, each disk is an empty qcow2 overlay over it in <dir>, and the disks \
                are then pulled into the overlays while the VM runs. The VM needs this process until \
                "local after" is printed.
                """)

        @OptionGroup var global: GlobalOptions
        @Argument(help: "VM name or UUID as recorded in the store.") var vm: String
        @Option(help: "Point ID (default: the newest).") var point: String?
        @Option(help: ArgumentHelp("Newest point taken at or before this time (ISO 8601, e.g. 2026-11-21T01:00:00Z).", valueName: "time"))
        var at: String?
        @Option(help: ArgumentHelp("Directory for the restored images.", valueName: "dir")) var to = "/var/lib/libvirt/images"
        @Option(name: .customLong("as"), help: ArgumentHelp("Name for the restored VM and its files.", valueName: "name"))
        var newName: String?
        @Option(help: "Image format (default: each disk's original format).") var format: String?
        @Flag(help: "Define the restored domain in libvirt.") var define = false
        @Flag(help: "Start it after defining (implies --define).") var start = false
        @Flag(help: "Replace existing image files.") var overwrite = false
        @Flag(help: "Restore a damaged point: write what is intact, leave lost ranges zero, report them (exit 3).")
        var allowDamaged = false
        @Flag(help: "Run the VM at once from the point and pull its disks onto local qcow2 files while it runs (implies --start).")
        var instant = false
        @Option(help: ArgumentHelp("With --instant: limit the pull to this many MiB/s per disk (default: none).", valueName: "MiB/s"))
        var pullLimit: UInt64?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if point != nil && at != nil { throw ValidationError("use --point or --at, not both") }
            if let at, Self.parseDate(at) == nil { throw ValidationError("--at: '\(at)' is not an ISO 8601 time") }
            if let format, RestoreOptions.Format(rawValue: format) == nil { throw ValidationError("--format must be qcow2 or raw") }
            if pullLimit != nil && !instant { throw ValidationError("--pull-limit applies only to --instant") }
            if let newName, newName.isEmpty || newName.contains("/") { throw ValidationError("--as: '\(newName)' is not a valid name") }
        }

        func run() throws {
            if instant { return try InstantRestoreRun(command: self).run() }
            let store = try global.openStore()
            var options = RestoreOptions()
            options.pointID = point
            options.at = at.flatMap(Self.parseDate)
            options.directory = URL(fileURLWithPath: to).standardizedFileURL
            options.newName = newName
            options.format = format.flatMap(RestoreOptions.Format.init(rawValue:))
            options.define = define || start
            options.start = start
            options.overwrite = overwrite
            options.allowDamaged = allowDamaged
            options.progress = json ? SilentProgress() : TerminalProgress()
            options.isCancelled = { Interruption.isRequested }
            let connection = options.define ? try LibvirtConnection(uri: global.connect) : nil
            let started = Date()
            let result = try RestoreRunner(store: store, connection: connection, options: options).restore(vm: vm)
            if json {
                try JSONOutput.print(result)
                if !result.damaged.isEmpty { throw ExitCode(3) }
                return
            }
            let seconds = Date().timeIntervalSince(started)
            print("restored \(result.vmName) point \(result.pointID) in \(String(format: "%.1f", seconds)) s")
            for disk in result.disks {
                print("  \(disk.target): \(disk.path) (\(disk.format), \(Human.bytes(disk.virtualSize)), \(Human.bytes(disk.bytesWritten)) written)")
            }
            if let defined = result.definedAs { print("  defined as \(defined)\(result.started ? ", started" : "")") }
            if !result.damaged.isEmpty {
                print("DAMAGED: \(result.damaged.count) chunk ranges could not be restored and read as zeros:")
                for range in result.damaged { print("  \(range)") }
                throw ExitCode(3)
            }
        }

        static func parseDate(_ text: String) -> Date? {
            let formatter = ISO8601DateFormatter()
            if let date = formatter.date(from: text) { return date }
            formatter.formatOptions = [.withFullDate]
            return formatter.date(from: text)
        }
    }
}
