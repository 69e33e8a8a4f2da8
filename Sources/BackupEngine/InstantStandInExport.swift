import Foundation
import VBackupModel
import VBackupStore

/// A stand-in until vbackup's own NBD server (`PointExport`) lands: restores the point in full
/// into a hidden scratch folder and serves each raw image with `qemu-nbd -r`. Its start time
/// grows with the data, which the real export's does not; everything after it (overlays,
/// define, pull) is the same.
public struct StandInExporter: InstantExporter {
    public init() {}

    public func start(store: Store, point: PointManifest, socketPath: String) throws -> any InstantExport {
        let scratch = URL(fileURLWithPath: "/var/lib/libvirt/images")
            .appendingPathComponent(".vbackup-instant-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())")
        var options = RestoreOptions()
        options.pointID = point.id
        options.directory = scratch
        options.newName = "point"
        options.format = .raw
        let export = StandInExport(scratch: scratch)
        do {
            let restored = try RestoreRunner(store: store, connection: nil, options: options).restore(vm: point.vmName)
            for disk in restored.disks {
                export.servers[disk.target] = try QemuNBDExport(
                    imagePath: disk.path, format: "raw", exportName: disk.target, socketPath: "\(socketPath)-\(disk.target)", bitmap: nil)
            }
        } catch {
            export.stop()
            throw error
        }
        return export
    }
}

final class StandInExport: InstantExport {
    let scratch: URL
    var servers: [String: QemuNBDExport] = [:]

    init(scratch: URL) { self.scratch = scratch }

    func uri(for target: String) -> String {
        "nbd+unix:///\(target)?socket=\(servers[target]?.socketPath ?? "")"
    }

    var readErrors: [String] { [] }

    func stop() {
        for server in servers.values { server.stop() }
        servers = [:]
        try? FileManager.default.removeItem(at: scratch)
    }
}
