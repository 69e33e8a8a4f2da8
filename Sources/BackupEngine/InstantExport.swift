import Foundation
import VBackupModel
import VBackupStore

/// Starts the read-only NBD export of a point that an instant restore runs its VM on. The seam
/// between instant restore (libvirt, overlays, the pull) and whatever serves the point's bytes.
public protocol InstantExporter: Sendable {
    /// Serves every disk of `point` on the Unix socket `socketPath` until `stop()`, reachable
    /// by QEMU (which runs as libvirt-qemu): the exporter sets the socket's and its folder's
    /// permissions.
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

/// vbackup's own NBD server serving the point from the store: before the first request it
/// reads only the disk indexes (32 bytes per 256 KiB chunk), no data.
public struct PointExporter: InstantExporter {
    public init() {}

    public func start(store: Store, point: PointManifest, socketPath: String) throws -> any InstantExport {
        try PointExport(store: store, point: point, socketPath: socketPath)
    }
}

extension PointExport: InstantExport {}

/// The folder holding an instant restore's export socket, `/run/vbackup/instant-<pid>-<rand>`:
/// made private (0700, root); the export then lets QEMU's user through to its socket and no
/// one else. Socket paths stay far below the 108-byte limit.
struct ExportFolder {
    static let prefix = "instant-"
    let url: URL

    static func create() throws -> ExportFolder {
        let url = URL(fileURLWithPath: RuntimeDirectory.path)
            .appendingPathComponent("\(prefix)\(getpid())-\(UUID().uuidString.prefix(8).lowercased())")
        // /run/vbackup itself stays searchable (0755); only our folder is private.
        try FileManager.default.createDirectory(atPath: RuntimeDirectory.path, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        return ExportFolder(url: url)
    }

    var socketPath: String { url.appendingPathComponent("export.sock").path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}
