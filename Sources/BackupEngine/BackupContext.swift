import Foundation
import VBackupModel
import VBackupStore

/// What every disk of one backup shares.
struct BackupContext {
    var store: Store
    var session: WriteSession
    var vmUUID: String
    var pointID: String
    var options: BackupOptions

    var progress: any ProgressSink { options.progress }

    func diskBackup(plan: DiskPlan, nextCheckpoint: String?, dirtyContext: String?) -> DiskBackup {
        DiskBackup(plan: plan, store: store, session: session, vmUUID: vmUUID, pointID: pointID,
                   nextCheckpoint: nextCheckpoint, workers: options.workers, progress: options.progress,
                   isCancelled: options.isCancelled, dirtyContext: dirtyContext)
    }
}

/// The disks read by an online or offline backup, and what to do once the point is committed.
struct BackupOutcome {
    var disks: [PointDisk]
    var consistency: PointManifest.Consistency
    var consistencyNote: String?
    var afterCommit: () -> Void
}

/// How a backup runs.
public struct BackupOptions: Sendable {
    /// Read every disk in full even where an incremental is possible.
    public var forceFull = false
    /// Hashing and compressing threads.
    public var workers = max(2, ProcessInfo.processInfo.activeProcessorCount)
    public var progress: any ProgressSink = SilentProgress()
    public var isCancelled: @Sendable () -> Bool = { false }

    public init() {}
}
