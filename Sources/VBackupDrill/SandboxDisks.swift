import BackupEngine
import Foundation
import VBackupModel
import VBackupStore

/// How a point's disks reach the sandbox: images in the VM's scratch folder that the sandbox
/// domain opens, and whatever serves them until teardown.
protocol SandboxDisks: AnyObject {
    /// `overlay` or `copy`, as the report says it.
    var mode: DrillOptions.DiskMode { get }
    /// The image per disk target.
    var images: [String: SandboxDomain.Disk] { get }
    /// Reads of the store that failed so far (corrupt or lost chunks), one line each.
    var storeErrors: [String] { get }
    /// Stops serving the point (after the domain is gone); the files go with the folder.
    func stop()
}

/// `--copy`: a full restore of every disk into the scratch folder before the boot, what a
/// recovery without instant restore costs. The store is no longer read once the copy is done.
final class CopiedDisks: SandboxDisks {
    let mode = DrillOptions.DiskMode.copy
    let images: [String: SandboxDomain.Disk]
    let storeErrors: [String] = []

    /// Restores `point` into `folder`; a failure (a damaged point included) is thrown as it
    /// is, and nothing is left but what the folder's removal takes.
    init(store: Store, point: PointManifest, folder: URL, isCancelled: @escaping @Sendable () -> Bool) throws {
        var options = RestoreOptions()
        options.pointID = point.id
        options.directory = folder
        options.newName = "disk"
        options.isCancelled = isCancelled
        let result = try RestoreRunner(store: store, connection: nil, options: options).restore(vm: point.vmUUID)
        images = Dictionary(uniqueKeysWithValues: result.disks.map { ($0.target, SandboxDomain.Disk(path: $0.path, format: $0.format)) })
    }

    func stop() {}
}

extension StoreError {
    /// Whether a failure came from reading the store (as opposed to the host, libvirt or QEMU).
    static func isStoreFailure(_ error: Error) -> Bool {
        if error is StoreError { return true }
        if case EngineError.damagedPoint = error { return true }
        return false
    }
}
