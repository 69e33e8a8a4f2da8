import Foundation

/// The host-wide limits in force at one instant, from every policy that applies to the host.
///
/// Each policy's time-of-day limits are applied first; then, setting by setting, the strictest
/// value wins: the lowest host bandwidth, the lowest number of concurrent jobs, the lowest CPU
/// cap, the lowest CPU weight and, for each adaptive signal, the lowest `slow` and the lowest
/// `pause` threshold. So adding a policy can only make the host gentler, never less careful.
/// Every value says which policy (and which time-of-day limit) set it, for "why" in status.
public struct HostLimits: Hashable, Sendable {
    /// Where a value came from.
    public struct Source: Hashable, Sendable, CustomStringConvertible {
        public var policy: String
        /// The time-of-day limit that set the value; nil for the throttle's base value.
        public var limit: TimeLimit?

        public init(policy: String, limit: TimeLimit? = nil) {
            self.policy = policy
            self.limit = limit
        }

        /// "policy nightly" or "policy nightly, limit Monday to Friday 08:00-18:00 Europe/Paris".
        public var description: String {
            "policy \(policy)" + (limit.map { ", limit \($0)" } ?? "")
        }
    }

    public struct Setting<Value: Hashable & Sendable>: Hashable, Sendable {
        public var value: Value
        /// Nil for the built-in default.
        public var source: Source?

        public init(value: Value, source: Source?) {
            self.value = value
            self.source = source
        }
    }

    /// The effective thresholds of one adaptive signal; nil = nobody set it.
    public struct Signal: Hashable, Sendable {
        public var slow: Setting<Double>?
        public var pause: Setting<Double>?

        public init(slow: Setting<Double>? = nil, pause: Setting<Double>? = nil) {
            self.slow = slow
            self.pause = pause
        }
    }

    public static let defaultMaxConcurrentJobs = 2
    public static let defaultCPUWeight = 100

    /// Bytes per second shared by the host's jobs; nil = unlimited.
    public var hostBandwidth: Setting<UInt64>?
    public var maxConcurrentJobs = Setting(value: defaultMaxConcurrentJobs, source: nil)
    /// Percent of one core; nil = no cap.
    public var cpuPercent: Setting<Double>?
    public var cpuWeight = Setting(value: defaultCPUWeight, source: nil)
    /// PSI "some" percentages.
    public var cpuPressure = Signal()
    public var ioPressure = Signal()
    /// Seconds.
    public var vmDiskLatency = Signal()

    /// The built-in defaults: two concurrent jobs, weight 100, nothing else limited.
    public init() {}

    /// The strictest settings of `policies` at `date`. Policies are taken in name order, so on
    /// a tie the source named is the same every time.
    public init(strictestOf policies: [Policy], at date: Date) {
        for policy in policies.sorted(by: { $0.name < $1.name }) {
            add(policy, at: date)
        }
    }

    private mutating func add(_ policy: Policy, at date: Date) {
        let throttle = policy.throttle
        let source = { (limit: TimeLimit?) in Source(policy: policy.name, limit: limit) }
        if let (bandwidth, limit) = throttle.setting(\.hostBandwidth, \.hostBandwidth, at: date), let rate = bandwidth.limit {
            Self.tighten(&hostBandwidth, rate, source(limit))
        }
        if let (jobs, limit) = throttle.setting(\.maxConcurrentJobs, \.maxConcurrentJobs, at: date) {
            Self.tighten(&maxConcurrentJobs, jobs, source(limit))
        }
        if let cpu = throttle.cpuPercent { Self.tighten(&cpuPercent, cpu, source(nil)) }
        if let weight = throttle.cpuWeight { Self.tighten(&cpuWeight, weight, source(nil)) }
        let adaptive = throttle.adaptive
        Self.tighten(&cpuPressure, adaptive.cpuPressure, source(nil))
        Self.tighten(&ioPressure, adaptive.ioPressure, source(nil))
        Self.tighten(&vmDiskLatency, adaptive.vmDiskLatency, source(nil))
    }

    private static func tighten<Value: Comparable>(_ current: inout Setting<Value>?, _ value: Value, _ source: Source) {
        if current.map({ value < $0.value }) ?? true { current = Setting(value: value, source: source) }
    }

    /// Replaces a default (no source) whatever its value: a policy that sets the value owns it.
    private static func tighten<Value: Comparable>(_ current: inout Setting<Value>, _ value: Value, _ source: Source) {
        if current.source == nil || value < current.value { current = Setting(value: value, source: source) }
    }

    private static func tighten(_ signal: inout Signal, _ thresholds: Thresholds?, _ source: Source) {
        if let slow = thresholds?.slow { tighten(&signal.slow, slow, source) }
        if let pause = thresholds?.pause { tighten(&signal.pause, pause, source) }
    }
}
