import Foundation
import VBackupStore

/// What `vbackup restore vm --instant` was asked to do.
public struct InstantRestoreOptions: Sendable {
    public var pointID: String?
    /// Restore the newest point taken at or before this time.
    public var at: Date?
    /// Where the overlays (which become the VM's local disks) and console logs go.
    public var directory = URL(fileURLWithPath: "/var/lib/libvirt/images")
    /// The new domain's name; nil means `<vm>-restored`.
    public var newName: String?
    /// The pull's limit per disk in bytes/s (0: none), so the copy leaves the store and the
    /// host's disks some room for the running VM.
    public var pullBytesPerSecond: UInt64 = 0
    /// How often the pull's progress and the export's read errors are polled.
    public var pollInterval: Double = 0.25
    /// Times ("running after", "local after") are measured from here: the command's start.
    public var startedAt = Date()
    /// The pull's progress, as one total over all disks.
    public var progress: any ProgressSink = SilentProgress()
    /// Asked between the steps before the domain runs: a yes undoes everything made so far.
    public var isCancelled: @Sendable () -> Bool = { false }
    /// Serves the point's disks to QEMU; the default is vbackup's own NBD server.
    public var exporter: any InstantExporter = PointExporter()

    public init() {}
}

/// What an instant restore did, for people and scripts.
public struct InstantRestoreResult: Codable, Sendable {
    public struct Disk: Codable, Sendable {
        public var target: String
        /// The local qcow2 the VM runs on (the overlay, which the pull made self-contained).
        public var path: String
        public var virtualSize: UInt64
        /// Bytes QEMU's pull streamed through the disk (its job's length: holes count too).
        public var bytesPulled: UInt64
        /// Bytes the image holds on the host's disk once local (`qemu-img` actual size).
        public var bytesAllocated: UInt64
    }

    public var pointID: String
    public var vmName: String
    public var pointCreatedAt: Date
    public var definedAs: String
    /// Seconds from the command's start until the domain ran, and until every disk was local.
    public var runningAfterSeconds: Double
    public var localAfterSeconds: Double
    public var disks: [Disk]
    /// Set when the VM shut down before the pull ended and the rest was copied offline.
    public var finishedOffline: Bool
}

/// Why an instant restore failed after its VM was running. Each description is one line and
/// says what became of the VM.
public enum InstantRestoreError: Error, CustomStringConvertible {
    /// The operator pressed Ctrl-C twice: the VM was destroyed and removed.
    case discarded(domain: String, removed: [String])
    /// The store could not serve a range: the guest got EIO there, the VM was removed.
    case storeReadFailed(domain: String, failures: [String], removed: [String])
    /// The pull itself failed (QEMU or libvirt): the VM was removed.
    case pullFailed(domain: String, reason: String, removed: [String])

    public var description: String {
        switch self {
        case .discarded(let domain, let removed):
            return "instant restore interrupted: destroyed and undefined domain '\(domain)' and deleted \(Self.list(removed))"
        case .storeReadFailed(let domain, let failures, let removed):
            let shown = failures.prefix(3).joined(separator: "; ") + (failures.count > 3 ? "; and \(failures.count - 3) more" : "")
            return "store read error while the VM ran from the point (the guest saw EIO): \(shown); "
                + "destroyed and undefined domain '\(domain)' and deleted \(Self.list(removed))"
        case .pullFailed(let domain, let reason, let removed):
            return "the pull onto local disks failed: \(reason); destroyed and undefined domain '\(domain)' and deleted \(Self.list(removed))"
        }
    }

    private static func list(_ paths: [String]) -> String { paths.isEmpty ? "nothing else" : paths.joined(separator: ", ") }
}
