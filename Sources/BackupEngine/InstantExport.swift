import Foundation
#if canImport(Glibc)
import Glibc
#endif
import VBackupModel
import VBackupStore

/// Starts the read-only NBD export of a point that an instant restore runs its VM on. The seam
/// between instant restore (libvirt, overlays, the pull) and whatever serves the point's bytes.
public protocol InstantExporter: Sendable {
    /// Serves every disk of `point` on the Unix socket `socketPath` (or sockets beside it,
    /// in the same folder) until `stop()`.
    func start(store: Store, point: PointManifest, socketPath: String) throws -> any InstantExport
}

/// A running export of a point's disks.
public protocol InstantExport: AnyObject {
    /// Where QEMU connects for one disk (`nbd+unix:///vda?socket=…`).
    func uri(for target: String) -> String
    /// The reads the export could not serve so far (the client got EIO), one line each
    /// naming the disk and the byte range.
    var readErrors: [String] { get }
    /// Ends the export and removes its socket; safe to call twice.
    func stop()
}

/// The folder holding an instant restore's export socket, `/run/vbackup/instant-<pid>-<rand>`:
/// owned by root, group libvirt-qemu, mode 0750, so QEMU (running as libvirt-qemu) can reach
/// the socket and no other user can. Socket paths stay far below the 108-byte limit.
struct ExportFolder {
    static let prefix = "instant-"
    let url: URL

    static func create() throws -> ExportFolder {
        let url = URL(fileURLWithPath: RuntimeDirectory.path)
            .appendingPathComponent("\(prefix)\(getpid())-\(UUID().uuidString.prefix(8).lowercased())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let folder = ExportFolder(url: url)
        folder.grant(url.path, mode: 0o750)
        return folder
    }

    var socketPath: String { url.appendingPathComponent("export.sock").path }

    /// Lets QEMU connect to every socket the export made here: connecting needs write
    /// permission on the socket, which the exporter (root, umask 022) does not give.
    func grantSockets() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: url.path) {
            let path = url.appendingPathComponent(name).path
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { continue }
            grant(path, mode: 0o660)
        }
    }

    func remove() { try? FileManager.default.removeItem(at: url) }

    private func grant(_ path: String, mode: mode_t) {
        if let group = getgrnam("libvirt-qemu") { _ = chown(path, 0, group.pointee.gr_gid) }
        chmod(path, mode)
    }
}
