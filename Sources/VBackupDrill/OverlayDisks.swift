import BackupEngine
import Foundation
import VBackupModel
import VBackupStore

/// The default: vbackup serves the point read-only over NBD (`PointExport`, a socket in the
/// scratch folder) and each disk is a qcow2 overlay in the scratch folder backed by its export.
/// Nothing is copied, so the time to running does not depend on the disk's size; the guest's
/// writes stay in the overlays, the overlays are never pulled, and all of it goes at teardown.
final class OverlayDisks: SandboxDisks {
    let mode = DrillOptions.DiskMode.overlay
    let images: [String: SandboxDomain.Disk]
    private let export: PointExport

    init(store: Store, point: PointManifest, folder: URL, socketPath: String) throws {
        guard socketPath.utf8.count < 108 else { throw DrillError.tool("the NBD socket path \(socketPath) is too long for a Unix socket") }
        export = try PointExport(store: store, point: point, socketPath: socketPath)
        var images: [String: SandboxDomain.Disk] = [:]
        do {
            for disk in point.disks {
                let path = folder.appendingPathComponent("\(disk.target).qcow2").path
                // -u: the size is given, so qemu-img need not open the export (QEMU will).
                try QemuImg.run(["create", "-q", "-f", "qcow2", "-o", "compat=1.1", "-u", "-F", "raw",
                                 "-b", export.uri(for: disk.target), path, String(disk.virtualSize)])
                images[disk.target] = SandboxDomain.Disk(path: path, format: "qcow2")
            }
        } catch {
            export.stop()
            throw error
        }
        self.images = images
    }

    var storeErrors: [String] { export.readErrors }

    func stop() { export.stop() }
}

/// `qemu-img`, run to completion (a few milliseconds for `create`).
enum QemuImg {
    static func run(_ arguments: [String]) throws {
        let executable = ["/usr/bin/qemu-img", "/usr/local/bin/qemu-img"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let executable else { throw DrillError.tool("qemu-img is not installed (install qemu-utils)") }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("vbdrill-qemu-img-\(getpid()).log").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let outcome = try ChildProcess(executable: executable, arguments: arguments, outputFile: output)
            .run(deadline: .now + .seconds(60)) { false }
        guard outcome.status == 0 else {
            throw DrillError.tool("qemu-img \(arguments.first ?? "") failed (exit \(outcome.status)): \(ChildProcess.lastLine(of: output))")
        }
    }
}
