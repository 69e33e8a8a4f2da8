import Foundation
import VBackupModel
import VBackupStore

/// Picks how a point's disks reach the sandbox (`DrillOptions.DiskMode`).
enum DiskProvisioner {
    /// `socketPath` is where an overlay's NBD export listens: in the drill's folder rather than
    /// the VM's, as a Unix socket's path must stay under 108 bytes.
    static func disks(for point: PointManifest, mode: DrillOptions.DiskMode, store: Store, folder: URL, socketPath: String,
                      isCancelled: @escaping @Sendable () -> Bool) throws -> SandboxDisks {
        switch mode {
        case .copy:
            return try CopiedDisks(store: store, point: point, folder: folder, isCancelled: isCancelled)
        case .overlay:
            return try OverlayDisks(store: store, point: point, folder: folder, socketPath: socketPath)
        }
    }
}
