import ArgumentParser
import BackupEngine
import Foundation
import LibvirtClient

/// The main job on embedded defaults, end to end, on a VM of its own: full backup, guest
/// writes, incremental, restore, and proof that the restore equals the source at that moment.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the main job on a demo VM: full, writes, incremental, restore, compare.",
        discussion: """
            Creates the TCG domain 'vbackup-demo' (a blank 512 MiB qcow2 disk under \
            /var/lib/libvirt/images/vbackup-demo) if it does not exist. It never writes into any other VM.
            """)

    static let vmName = "vbackup-demo"

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let connection = try LibvirtConnection(uri: global.connect)
        let lab = try demoDomain(connection)
        if case .running = try lab.domain.runState() {} else { try lab.domain.start() }
        let store = try global.openStore(createDefault: true)
        step("store: \(store.adapter.location)")
        let runner = BackupRunner(connection: connection, store: store, options: {
            var options = BackupOptions()
            options.progress = TerminalProgress()
            return options
        }())
        let mib: UInt64 = 1 << 20
        step("writing 96 MiB of data into the guest disk")
        for (index, pattern) in [0x11, 0x22, 0x33].enumerated() {
            try lab.write("vda", offset: UInt64(index) * 64 * mib, length: 32 * mib, pattern: UInt8(pattern))
        }
        try backup(runner, "full (or incremental if the demo ran before)")
        step("guest writes: 8 scattered 1 MiB writes and a zeroed 4 MiB range")
        for index in 0..<8 { try lab.write("vda", offset: UInt64(index) * 48 * mib + 7 * mib, length: mib, pattern: 0xA0 + UInt8(index)) }
        try lab.zero("vda", offset: 66 * mib, length: 4 * mib)
        try lab.domain.suspend()
        let work = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("vbackup-demo-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let reference = work.appendingPathComponent("source-at-backup.qcow2").path
        try LabDomain.copyImage(try lab.diskPaths()["vda"]!, to: reference)
        let point = try backup(runner, "incremental")
        try lab.domain.resume()
        var options = RestoreOptions()
        options.directory = work
        options.progress = TerminalProgress()
        let restored = try RestoreRunner(store: store, connection: nil, options: options).restore(vm: Self.vmName)
        step("restored point \(restored.pointID) to \(restored.disks[0].path)")
        guard try LabDomain.sameContent(reference, restored.disks[0].path) else {
            throw ValidationError("restored disk differs from the source at point \(point)")
        }
        step("qemu-img compare: the restored disk is identical to the source at the moment of the backup")
    }

    private func demoDomain(_ connection: LibvirtConnection) throws -> LabDomain {
        let directory = URL(fileURLWithPath: "/var/lib/libvirt/images/vbackup-demo")
        if let domain = try? connection.lookupDomain(Self.vmName) { return LabDomain(domain: domain, directory: directory) }
        step("creating demo VM \(Self.vmName) (TCG, blank 512 MiB qcow2 disk)")
        return try LabDomain.define(connection: connection, name: Self.vmName,
                                    disks: [.init(target: "vda", sizeMiB: 512)], directory: directory)
    }

    @discardableResult
    private func backup(_ runner: BackupRunner, _ label: String) throws -> String {
        step("backup: \(label)")
        let started = Date()
        let point = try runner.backup(vm: Self.vmName)
        let seconds = Date().timeIntervalSince(started)
        for disk in point.disks {
            print("  \(disk.target): \(disk.mode.rawValue)\(disk.fullReason.map { " (\($0))" } ?? ""), read \(Human.bytes(disk.bytesRead)), stored \(Human.bytes(disk.bytesStored)) new, \(String(format: "%.1f", seconds)) s")
        }
        return point.id
    }

    private func step(_ text: String) { print("==> \(text)") }
}
