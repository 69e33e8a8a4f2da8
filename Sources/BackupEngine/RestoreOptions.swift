import Foundation
import VBackupModel

/// What `vbackup restore vm` was asked to do.
public struct RestoreOptions: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case qcow2, raw
    }

    public var pointID: String?
    /// Restore the newest point taken at or before this time.
    public var at: Date?
    public var directory = URL(fileURLWithPath: "/var/lib/libvirt/images")
    public var newName: String?
    /// Nil keeps each disk's original format.
    public var format: Format?
    public var define = false
    public var start = false
    public var overwrite = false
    /// Restore a damaged point: write every intact chunk, leave lost ranges zero, report them.
    public var allowDamaged = false
    /// Twice the cores: each worker spends part of its time waiting on a pack read or an NBD
    /// write round trip, so one per core leaves cores idle (measured: 2 → 4 on 2 cores).
    public var workers = 2 * max(2, ProcessInfo.processInfo.activeProcessorCount)
    public var progress: any ProgressSink = SilentProgress()
    public var isCancelled: @Sendable () -> Bool = { false }

    public init() {}
}

/// What a restore wrote, for people and scripts.
public struct RestoreResult: Codable, Sendable {
    public struct Disk: Codable, Sendable {
        public var target: String
        public var path: String
        public var format: String
        public var virtualSize: UInt64
        public var bytesWritten: UInt64
    }

    public var pointID: String
    public var vmName: String
    public var pointCreatedAt: Date
    public var disks: [Disk]
    public var nvramPath: String?
    /// The name of the domain defined from the point, when `--define` was given.
    public var definedAs: String?
    public var started: Bool
    /// Ranges that could not be restored (only with `allowDamaged`); they read as zeros.
    public var damaged: [DamagedRange] = []
}

/// A byte range of a restored disk whose chunk was lost.
public struct DamagedRange: Codable, Sendable, Equatable, CustomStringConvertible {
    public var disk: String
    public var offset: UInt64
    public var length: UInt64
    public var chunk: String
    public var reason: String

    public var description: String { "\(disk) bytes \(offset)-\(offset + length - 1) (chunk \(chunk.prefix(12)))" }
}
