import Foundation
import LibvirtClient
import NBDClient
import VBackupModel

/// Backs up a running (or paused) VM through a libvirt pull-mode backup job: one atomic
/// point-in-time view of every disk, exported over NBD, plus a new checkpoint whose bitmaps
/// record what changes until the next backup.
struct OnlineBackup {
    var domain: LibvirtDomain
    var context: BackupContext
    var plans: [DiskPlan]
    var isPaused: Bool

    func run() throws -> BackupOutcome {
        var plans = self.plans
        try endStaleJob()
        dropPlansWithVanishedCheckpoints(&plans)
        let job = try JobDirectory.create(vmUUID: context.vmUUID)
        defer { job.remove() }
        let checkpointName = CheckpointJanitor.name(forPoint: context.pointID)
        let (consistency, note) = try begin(&plans, job: job, checkpoint: checkpointName)
        let createsCheckpoint = plans.contains(where: \.tracksChanges)
        var committed = false
        defer {
            try? domain.abortJob()
            if !committed && createsCheckpoint { CheckpointJanitor.remove(checkpointName, on: domain) }
        }
        var disks: [PointDisk] = []
        for plan in plans {
            let backup = context.diskBackup(
                plan: plan, nextCheckpoint: plan.tracksChanges ? checkpointName : nil,
                dirtyContext: plan.isIncremental ? NBDContext.dirtyBitmap("backup-\(plan.disk.target)") : nil)
            disks.append(try backup.run(socketPath: job.path("nbd.sock")))
        }
        committed = true
        return BackupOutcome(disks: disks, consistency: consistency, consistencyNote: note) {
            let leftovers = CheckpointJanitor.removeSuperseded(on: domain, keep: createsCheckpoint ? checkpointName : nil)
            for leftover in leftovers { context.progress.note("could not delete checkpoint \(leftover)") }
        }
    }

    /// A pull job never ends by itself: one left by a killed vbackup (we hold the VM lock, so
    /// it is not running) is ended; another tool's job is left alone and reported.
    private func endStaleJob() throws {
        guard (try? domain.hasActiveJob()) == true else { return }
        let xml = (try? domain.backupXML()) ?? ""
        guard xml.contains(JobDirectory.prefix) else {
            throw EngineError.backupFailed(vm: domain.name, reason: "another job (not vbackup's) is running on this VM")
        }
        try domain.abortJob()
        context.progress.note("ended a backup job left behind by an interrupted vbackup run")
    }

    private func dropPlansWithVanishedCheckpoints(_ plans: inout [DiskPlan]) {
        let existing = Set(((try? domain.checkpoints()) ?? []).map(\.name))
        for index in plans.indices {
            if let name = plans[index].incrementalFrom, !existing.contains(name) {
                plans[index].fallBackToFull("checkpoint \(name) no longer exists (domain redefined or checkpoint deleted)")
            }
        }
    }

    /// Starts the job, quiescing around the start when a guest agent answers. When libvirt says
    /// a disk's checkpoint is missing or broken, that disk alone falls back to full and the
    /// start is retried.
    private func begin(_ plans: inout [DiskPlan], job: JobDirectory, checkpoint: String) throws -> (PointManifest.Consistency, String?) {
        for _ in 0...plans.count {
            let requests = plans.map {
                BackupXML.DiskRequest(target: $0.disk.target, incrementalFrom: $0.incrementalFrom,
                                      tracksChanges: $0.tracksChanges, scratchPath: job.path("\($0.disk.target).scratch"))
            }
            let backupXML = BackupXML.backup(socketPath: job.path("nbd.sock"), disks: requests)
            let checkpointXML = BackupXML.checkpoint(name: checkpoint, disks: requests, excluded: [])
            let (consistency, note) = freeze()
            do {
                defer { if consistency == .quiesced { _ = try? domain.fsThaw() } }
                try domain.backupBegin(backupXML: backupXML, checkpointXML: checkpointXML)
                return (consistency, note)
            } catch let error as LibvirtError where Self.isCheckpointProblem(error) {
                let broken = Self.diskNamed(in: error.message)
                var changed = false
                for index in plans.indices where plans[index].isIncremental && (broken == nil || plans[index].disk.target == broken) {
                    plans[index].fallBackToFull("checkpoint unusable: \(error.message)")
                    context.progress.note("\(plans[index].disk.target): \(error.message); reading it in full")
                    changed = true
                }
                if !changed { throw error }
            }
        }
        throw EngineError.backupFailed(vm: domain.name, reason: "could not start the backup job")
    }

    private func freeze() -> (PointManifest.Consistency, String?) {
        if isPaused { return (.crashConsistent, "VM paused: guest agent not asked to freeze") }
        do {
            _ = try domain.fsFreeze()
            return (.quiesced, nil)
        } catch {
            return (.crashConsistent, "\(error)")
        }
    }

    static func isCheckpointProblem(_ error: LibvirtError) -> Bool {
        error.code == LibvirtError.checkpointInconsistent || error.code == LibvirtError.noDomainCheckpoint
            || error.message.contains("Bitmap") || error.message.contains("bitmap")
    }

    /// libvirt names the disk as "... for disk 'vda'" or "... of disk 'vda' ...".
    static func diskNamed(in message: String) -> String? {
        guard let range = message.range(of: "disk '") else { return nil }
        let rest = message[range.upperBound...]
        return rest.firstIndex(of: "'").map { String(rest[..<$0]) }
    }
}
