import Foundation
import NBDServer
import VBackupModel
import VBackupStore

/// Serves every disk of `point` read-only, export name = disk target ("vda"), over vbackup's
/// own NBD server: what instant restore boots from, drills read, and `vbackup mount` shows.
/// The disks share one cache of decoded chunks (`cacheBytes`), so a chunk two disks share is
/// decoded once.
public final class PointExport: @unchecked Sendable {
    public let point: PointManifest
    public let socketPath: String
    private let server: NBDServer
    private let failures = ReadFailureLog()

    /// Reads every disk's index (so a point whose index is missing or corrupt fails here, not
    /// at the first read) and starts serving on `socketPath`.
    public init(store: Store, point: PointManifest, socketPath: String, cacheBytes: Int = 256 << 20) throws {
        self.point = point
        self.socketPath = socketPath
        let cache = ChunkCache(capacity: cacheBytes)
        var exports: [String: any NBDExportSource] = [:]
        for disk in point.disks {
            exports[disk.target] = try PointDiskSource(store: store, disk: disk, cache: cache, failures: failures)
        }
        server = try NBDServer(socketPath: socketPath, exports: exports)
    }

    deinit { server.stop() }

    /// The NBD URI of one disk, as QEMU, qemu-img, nbdinfo and nbdcopy take it.
    public func uri(for target: String) -> String {
        let socket = socketPath.addingPercentEncoding(withAllowedCharacters: Self.uriAllowed) ?? socketPath
        return "nbd+unix:///\(target)?socket=\(socket)"
    }

    /// One line per read the store could not serve: "vda bytes X-Y: chunk 1a2b…: <why>",
    /// each once, in the order they happened.
    public var readErrors: [String] { failures.lines }

    /// Stops serving: closes every connection and removes the socket. Idempotent.
    public func stop() {
        server.stop()
    }

    private static let uriAllowed = CharacterSet.urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+#"))
}
