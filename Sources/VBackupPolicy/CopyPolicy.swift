import Foundation

/// A policy's `copy:` section: when the agent copies its VMs' points to a second store (an
/// off-site copy, the "1" of 3-2-1), and how. Each firing copies, per VM, every point of the
/// policy's store that the target lacks, as `vbackup copy` does.
///
/// The calendar follows the rules of a `schedule:` entry (time zone, window, jitter), kept as a
/// `Schedule` of index `Schedule.copyIndex`, which keeps its firings apart from the backups'
/// and the drill's in the agent's journal.
public struct CopyPolicy: Hashable, Sendable {
    /// When: calendar, zone, window and jitter (its `mode` is not used).
    public var schedule: Schedule
    /// The target store's path or URL; it must exist (`vbackup store init`).
    public var target: String
    /// Cap on the bytes one copy job writes to the target.
    public var bandwidth: Bandwidth
    /// Only these of the policy's VMs (names or UUIDs); nil: every VM the policy selects.
    public var vms: [VMPattern]?
    /// An encrypted target's key file kept outside it, and the file holding its passphrase.
    public var keyFile: String?
    public var passphraseFile: String?
    /// Each copied point is immutable in the target for this long (S3 Object Lock on the
    /// target); nil: ordinary copies. Independent of the policy's own `immutable:`.
    public var immutableFor: TimeInterval?

    public init(schedule: Schedule, target: String, bandwidth: Bandwidth = .unlimited, vms: [VMPattern]? = nil,
                keyFile: String? = nil, passphraseFile: String? = nil, immutableFor: TimeInterval? = nil) {
        self.schedule = schedule
        self.target = target
        self.bandwidth = bandwidth
        self.vms = vms
        self.keyFile = keyFile
        self.passphraseFile = passphraseFile
        self.immutableFor = immutableFor
    }

    /// Whether the copy covers `vm` (which the policy already selects).
    public func copies(_ vm: VMFacts) -> Bool {
        vms?.contains { $0.matches(name: vm.name, uuid: vm.uuid) } ?? true
    }
}

extension Schedule {
    /// The index a policy's copy calendar carries: not a position in `schedule:`.
    public static let copyIndex = -2

    /// Whether this is a policy's copy calendar rather than a backup schedule or the drill's.
    public var isCopy: Bool { index == Self.copyIndex }
}
