import Foundation

/// A policy's `drill:` section: when the agent proves that the policy's VMs can come back, by
/// booting each VM's newest point in a sandbox and checking it (a DR drill, `vbackup drill`).
///
/// The calendar follows the rules of a `schedule:` entry (time zone, window, jitter), kept as a
/// `Schedule` whose index is `Schedule.drillIndex`: that seeds the drill's own jitter and keeps
/// its firings apart from the backups' in the agent's journal. The rest says how the drill
/// checks the guest; it maps one to one onto the drill runner's options.
public struct DrillPolicy: Hashable, Sendable {
    public enum Network: String, Hashable, Sendable, CaseIterable {
        /// The sandbox has no network interface at all.
        case none
        /// Interfaces on a libvirt network the drill makes with no route out.
        case isolated
    }

    public static let defaultTimeout: TimeInterval = 5 * 60
    public static let defaultSettle: TimeInterval = 3

    /// When: calendar, zone, window and jitter (its `mode` is not used).
    public var schedule: Schedule
    /// A VM not healthy this long after its drill started fails.
    public var timeout: TimeInterval
    /// After the other checks passed, the sandbox must still run this long.
    public var settle: TimeInterval
    public var network: Network
    /// A console line matching this regular expression marks the guest healthy; nil: no console check.
    public var consolePattern: String?
    /// An executable run once the other checks pass (exit 0 passes); nil: none.
    public var script: String?

    public init(schedule: Schedule, timeout: TimeInterval = DrillPolicy.defaultTimeout,
                settle: TimeInterval = DrillPolicy.defaultSettle, network: Network = .none,
                consolePattern: String? = nil, script: String? = nil) {
        self.schedule = schedule
        self.timeout = timeout
        self.settle = settle
        self.network = network
        self.consolePattern = consolePattern
        self.script = script
    }
}

extension Schedule {
    /// The index a policy's drill calendar carries: not a position in `schedule:`.
    public static let drillIndex = -1

    /// Whether this is a policy's drill calendar rather than a backup schedule.
    public var isDrill: Bool { index == Self.drillIndex }
}
