import ArgumentParser
import BackupEngine
import Foundation
import VBackupModel

/// `vbackup mount POINT DISK [MOUNTPOINT]`: single-file restore without restoring the disk.
struct MountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Serve a point's disk read-only over NBD, or mount its filesystem read-only.",
        discussion: """
            Without MOUNTPOINT the disk is served as an NBD export on a Unix socket (the URI is printed, \
            with the qemu-img and nbdinfo lines that read it) until Ctrl-C or SIGTERM. With MOUNTPOINT \
            the disk is shown as a file through nbdfuse, attached to a read-only loop device, and its \
            partition (--partition N; by default the only one, or the whole disk when it has no \
            partition table) is mounted read-only without replaying a journal. Ctrl-C or SIGTERM \
            unmounts and removes everything the command made, as does any failure.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Point ID.") var point: String
    @Argument(help: "Disk target, e.g. vda.") var disk: String
    @Argument(help: "Directory to mount the disk's filesystem on (without it, the disk is only served over NBD).")
    var mountpoint: String?
    @Option(help: "Partition to mount (default: the only one, or the whole disk).") var partition: Int?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if partition != nil && mountpoint == nil { throw ValidationError("--partition needs a MOUNTPOINT") }
        if let partition, partition < 1 { throw ValidationError("--partition must be 1 or more") }
    }

    func run() throws {
        let mountpoint = try mountpoint.map(Self.existingDirectory)
        let store = try global.openStore()
        let manifest = try store.point(id: point)
        guard let pointDisk = manifest.disks.first(where: { $0.target == disk }) else {
            let have = manifest.disks.map(\.target).joined(separator: ", ")
            throw EngineError.invalidArgument("point \(manifest.id) has no disk '\(disk)' (it has \(have))")
        }
        var served = manifest
        served.disks = [pointDisk]

        let work = try Self.makeWorkDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let export = try PointExport(store: store, point: served, socketPath: work + "/nbd.sock")
        defer { export.stop() }
        let uri = export.uri(for: disk)
        var report = MountReport(point: manifest.id, vm: manifest.vmName, disk: disk, uri: uri, socket: export.socketPath)

        guard let mountpoint else {
            try announce(report) {
                print("serving \(disk) of point \(manifest.id) (\(manifest.vmName), \(Human.date(manifest.createdAt))) read-only at")
                print("  \(uri)")
                print("read it with:  qemu-img info '\(uri)'   or   nbdinfo --map '\(uri)'")
                print("Ctrl-C stops serving")
            }
            Self.waitForInterruption()
            if !json { print("stopped serving \(disk) of point \(manifest.id)") }
            return
        }

        let mounted = try ReadOnlyMount(uri: uri, workDirectory: work, mountpoint: mountpoint, partition: partition)
        report.mountpoint = mounted.details.mountpoint
        report.device = mounted.details.device
        report.partition = mounted.details.partition
        report.filesystem = mounted.details.filesystem
        do {
            try announce(report) {
                let what = mounted.details.partition.map { "partition \($0) of \(disk)" } ?? disk
                print("mounted \(what) of point \(manifest.id) (\(manifest.vmName), \(Human.date(manifest.createdAt))) "
                    + "read-only at \(mountpoint) (\(mounted.details.filesystem ?? "unknown filesystem"), \(mounted.details.device))")
                print("Ctrl-C unmounts")
            }
        } catch {
            try? mounted.unmount()
            throw error
        }
        Self.waitForInterruption()
        try mounted.unmount()
        if !json { print("unmounted \(mountpoint)") }
    }

    /// Prints the report (JSON or text) and flushes: a script or test reading the output
    /// through a pipe must see it while the command still runs.
    private func announce(_ report: MountReport, text: () -> Void) throws {
        if json { try JSONOutput.print(report) } else { text() }
        fflush(nil)  // every stdio stream: print() buffers when stdout is a pipe
    }

    private static func waitForInterruption() {
        while !Interruption.isRequested { usleep(100_000) }
    }

    private static func existingDirectory(_ path: String) throws -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EngineError.invalidArgument("mount point \(path) is not a directory")
        }
        return absolute
    }

    /// A private folder for the socket and the FUSE file.
    private static func makeWorkDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/vbackup-mount-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw EngineError.invalidArgument("cannot make a folder in \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))")
        }
        return URL(fileURLWithPath: String(cString: made)).standardizedFileURL.path
    }
}

/// What `vbackup mount --json` prints once the disk is served (and mounted).
struct MountReport: Encodable {
    var point: String
    var vm: String
    var disk: String
    var uri: String
    var socket: String
    var mountpoint: String?
    var device: String?
    var partition: Int?
    var filesystem: String?
}
