import Foundation
import NBDClient
import VBackupModel

/// Backs up a shut-off VM by exporting each image read-only with `qemu-nbd` (libvirt refuses
/// backups of inactive domains). Persistent bitmaps keep recording while the VM is off, so a
/// disk whose checkpoint bitmap is still enabled and consistent is read incrementally; no new
/// checkpoint is made, and the next backup continues from the same one.
struct OfflineBackup {
    var context: BackupContext
    var plans: [DiskPlan]

    func run() throws -> BackupOutcome {
        let job = try JobDirectory.create(vmUUID: context.vmUUID)
        defer { job.remove() }
        var disks: [PointDisk] = []
        for var plan in plans {
            let bitmap = usableBitmap(&plan)
            let export = try QemuNBDExport(
                imagePath: plan.disk.sourcePath, format: plan.image.format, exportName: plan.disk.target,
                socketPath: job.path("\(plan.disk.target).sock"), bitmap: bitmap)
            defer { export.stop() }
            let backup = context.diskBackup(
                plan: plan, nextCheckpoint: bitmap ?? recordingCheckpoint(plan.image),
                dirtyContext: bitmap.map(NBDContext.dirtyBitmap))
            disks.append(try backup.run(socketPath: export.socketPath))
        }
        return BackupOutcome(disks: disks, consistency: .shutoff, consistencyNote: nil) {}
    }

    /// The plan's checkpoint bitmap, when the image still has it enabled and consistent.
    private func usableBitmap(_ plan: inout DiskPlan) -> String? {
        guard let name = plan.incrementalFrom else { return nil }
        guard let bitmap = plan.image.bitmaps.first(where: { $0.name == name }) else {
            plan.fallBackToFull("bitmap \(name) is missing from \(plan.disk.sourcePath)")
            return nil
        }
        guard bitmap.isConsistent, bitmap.isRecording else {
            plan.fallBackToFull("bitmap \(name) in \(plan.disk.sourcePath) is \(bitmap.isConsistent ? "disabled" : "inconsistent (QEMU did not close the image cleanly)")")
            return nil
        }
        return name
    }

    /// After a full read, an enabled, consistent vbackup bitmap that predates this point can
    /// carry the next incremental: whatever it calls clean has not changed since this point.
    private func recordingCheckpoint(_ image: ImageInfo) -> String? {
        image.bitmaps.last { $0.name.hasPrefix(CheckpointJanitor.prefix) && $0.isConsistent && $0.isRecording }?.name
    }
}
