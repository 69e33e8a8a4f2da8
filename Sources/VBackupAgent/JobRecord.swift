import Foundation
import GRDB

/// One job of the agent (a backup, or a DR drill of the VM's newest point), as the journal keeps it. Every state change is written before
/// the agent acts on it, so a restart (graceful or after SIGKILL) knows what each job was doing.
public struct JobRecord: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "job"

    public enum State: String, Codable, Sendable, CaseIterable {
        /// Waiting for a slot (or for the adaptive throttle to stop pausing new starts).
        case queued
        case running
        case succeeded
        case failed
        /// The window closed before a slot was free: the job never started.
        case missed
        /// The agent stopped or died while it ran; a new job was queued when the window allowed.
        case interrupted
        /// A drill with nothing to drill: the VM has no point yet (`error` says where it looked).
        case skipped

        public var isFinished: Bool { self != .queued && self != .running }
    }

    public enum Kind: String, Codable, Sendable {
        /// Reads the VM's disks into a new point.
        case backup
        /// Boots the VM's newest point in a sandbox and checks it (the policy's `drill:`).
        case drill
        /// Copies the VM's points to the policy's copy target (the policy's `copy:`).
        case copy
    }

    public enum Trigger: String, Codable, Sendable {
        /// Its calendar fired while the agent ran.
        case schedule
        /// Its calendar fired while the agent was down (or before the VM existed) and the
        /// window was still open when the agent saw it.
        case catchUp = "catch-up"
        /// `vbackup agent run`.
        case manual
        /// Re-queued after an interruption.
        case retry
    }

    public var id: String
    public var kind: Kind
    public var vmUUID: String
    public var vmName: String
    public var policy: String
    /// The schedule entry (index in the policy) that fired it, `Schedule.drillIndex` for a
    /// policy's drill; nil for manual jobs.
    public var scheduleIndex: Int?
    public var fullBackup: Bool
    public var trigger: Trigger
    public var priority: Int
    public var state: State
    /// The fire time of its calendar (manual jobs: when asked).
    public var firedAt: Date
    /// The job must have finished by then; nil: no window (manual jobs).
    public var windowEnd: Date?
    public var queuedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// The point a backup made, or the point a drill tested.
    public var pointID: String?
    public var bytesRead: Int64 = 0
    public var bytesStored: Int64 = 0
    /// Seconds the job waited on the bandwidth throttle.
    public var throttledSeconds: Double = 0
    /// It finished (or is still running) after its window closed.
    public var overran: Bool = false
    public var error: String?
    /// The process that ran it (for recognising a job left `running` by a dead agent).
    public var agentPID: Int32?

    public init(id: String = UUID().uuidString.lowercased(), vmUUID: String, vmName: String, policy: String,
                scheduleIndex: Int?, fullBackup: Bool, trigger: Trigger, priority: Int, firedAt: Date,
                windowEnd: Date?, queuedAt: Date, kind: Kind = .backup) {
        self.id = id
        self.kind = kind
        self.vmUUID = vmUUID
        self.vmName = vmName
        self.policy = policy
        self.scheduleIndex = scheduleIndex
        self.fullBackup = fullBackup
        self.trigger = trigger
        self.priority = priority
        self.state = .queued
        self.firedAt = firedAt
        self.windowEnd = windowEnd
        self.queuedAt = queuedAt
    }
}
