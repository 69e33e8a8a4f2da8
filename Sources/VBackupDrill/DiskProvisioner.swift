import Foundation
import VBackupModel
import VBackupStore

/// Picks how a point's disks reach the sandbox (`DrillOptions.DiskMode`).
enum DiskProvisioner {
    static func disks(for point: PointManifest, mode: DrillOptions.DiskMode, store: Store, folder: URL,
                      isCancelled: @escaping @Sendable () -> Bool) throws -> SandboxDisks {
        switch mode {
        case .copy:
            return try CopiedDisks(store: store, point: point, folder: folder, isCancelled: isCancelled)
        case .overlay:
            throw DrillError.tool("overlay mode needs vbackup's NBD export of a point, which this build lacks (use --copy)")
        }
    }
}
