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
                   isCancelled: options.isCancelled, gate: options.readGate, dirtyContext: dirtyContext)
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
    /// Paces the disk reads (the agent's bandwidth throttle); nil reads as fast as it can.
    public var readGate: (any ReadGate)?
    /// Make the point immutable for this long from the job start (S3 Object Lock: no one can
    /// delete it before then); nil for an ordinary point.
    public var immutableFor: TimeInterval?

    public init() {}
}

/// Lets a disk read of `bytes` proceed, blocking until it may. Returns false when
/// `isCancelled` turned true while waiting, which ends the backup as cancelled.
///
/// The gate sits before the read, not after it: a throttled job then holds no buffer and
/// no NBD request open while it waits, and the source sees an even request rate.
public protocol ReadGate: Sendable {
    func admit(_ bytes: Int, isCancelled: () -> Bool) -> Bool
}
