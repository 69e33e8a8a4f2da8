/// Turns host signals into the bandwidth factor (`BandwidthGovernor.setFactor`), about once a
/// second. Pure: no clock, no I/O; each `update` is one step of a small state machine.
///
/// The rule, and why:
/// - Any signal at or above its **pause** threshold → factor 0 (paused). The host or a guest is in
///   trouble; the backup can wait. A pause lasts only while a signal stays at that level.
/// - Else any signal at or above its **slow** threshold → the factor halves each update while it
///   stays there, down to 0.05. Halving finds a tolerable rate in a few steps whatever the start,
///   and the floor keeps a trickle going so a backup under steady pressure still ends.
/// - Signals below 0.75 × slow for **3 consecutive updates** → the factor climbs by 0.15 each
///   update until 1 (recovering, then normal). Backing off fast and returning slowly (AIMD, as in
///   TCP) keeps the backup from pushing the host straight back over the line it just left.
/// - Between 0.75 × slow and slow the factor holds: the gap is the hysteresis band that stops a
///   signal hovering at a threshold from flipping the factor every second.
///
/// Like Veeam's storage latency control, the guest-facing signal is disk latency of the VMs; PSI
/// adds the host's own view of CPU and I/O contention.
public struct AdaptiveThrottle: Sendable {
    public struct Thresholds: Codable, Sendable, Equatable {
        public var slow: Double
        public var pause: Double

        public init(slow: Double, pause: Double) {
            self.slow = slow
            self.pause = pause
        }
    }

    public enum State: String, Codable, Sendable {
        case normal, slowed, paused, recovering
    }

    public struct Decision: Codable, Sendable, Equatable {
        /// The factor for the bandwidth governor, 0...1.
        public var factor: Double
        public var state: State
        /// One line naming the signal, its value and the threshold it was compared with.
        public var reason: String

        public init(factor: Double, state: State, reason: String) {
            self.factor = factor
            self.state = state
            self.reason = reason
        }
    }

    /// What the agent measured this update; nil = not available (or not measured).
    public struct Signals: Sendable, Equatable {
        /// Percent (e.g. `PressureSample.cpuSome`).
        public var cpuPressure: Double?
        /// Percent (e.g. `PressureSample.ioSome`).
        public var ioPressure: Double?
        /// The worst disk latency among the running VMs, and whose it is.
        public var vmDiskLatency: VMLatency?

        public init(cpuPressure: Double? = nil, ioPressure: Double? = nil, vmDiskLatency: VMLatency? = nil) {
            self.cpuPressure = cpuPressure
            self.ioPressure = ioPressure
            self.vmDiskLatency = vmDiskLatency
        }
    }

    public struct VMLatency: Sendable, Equatable {
        public var vm: String
        public var milliseconds: Double

        public init(vm: String, milliseconds: Double) {
            self.vm = vm
            self.milliseconds = milliseconds
        }
    }

    static let floor = 0.05
    static let recoveryStep = 0.15
    static let calmUpdatesBeforeRecovery = 3
    static let clearFraction = 0.75

    /// Thresholds in percent of wall time (PSI "some").
    public var cpuPressure: Thresholds?
    public var ioPressure: Thresholds?
    /// Thresholds in milliseconds.
    public var vmDiskLatency: Thresholds?

    public private(set) var factor = 1.0
    public private(set) var state = State.normal
    /// Consecutive updates with every signal below 0.75 × slow.
    private var calmUpdates = 0
    /// Host pressure the backups are not causing, per host signal: the level it kept through a
    /// long pause (see `AdaptiveThrottle+Attribution.swift`).
    var background: [String: Double] = [:]
    /// Consecutive updates with the backups at their slowest (paused, or at the floor and still
    /// told to slow down), and the lowest value of each host signal during them.
    var pausedUpdates = 0
    var pauseLows: [String: Double] = [:]

    public init(cpuPressure: Thresholds? = nil, ioPressure: Thresholds? = nil, vmDiskLatency: Thresholds? = nil) {
        self.cpuPressure = cpuPressure
        self.ioPressure = ioPressure
        self.vmDiskLatency = vmDiskLatency
    }
}

extension AdaptiveThrottle {
    public mutating func update(_ signals: Signals) -> Decision {
        let readings = discountingBackground(readings(signals))
        if let worst = readings.filter({ $0.value >= $0.thresholds.pause }).max(by: { $0.ratio(\.pause) < $1.ratio(\.pause) }) {
            if let attributed = attributeToHost(worst, readings) { return attributed }
            return decide(0, .paused, calm: 0, "\(worst.words) ≥ pause \(worst.format(worst.thresholds.pause))")
        }
        if let worst = readings.filter({ $0.value >= $0.thresholds.slow }).max(by: { $0.ratio(\.slow) < $1.ratio(\.slow) }) {
            if factor <= Self.floor, let attributed = attributeToHost(worst, readings) { return attributed }
            let halved = max(Self.floor, factor / 2)
            return decide(halved, .slowed, calm: 0, "\(worst.words) ≥ slow \(worst.format(worst.thresholds.slow))")
        }
        // Nothing at a threshold: a pause ends here, at the slowest rate, and any run of updates
        // toward judging the host's own pressure is broken.
        pausedUpdates = 0
        pauseLows = [:]
        let resumed = max(factor, Self.floor)
        let nearest = readings.max { $0.ratio(\.slow) < $1.ratio(\.slow) }
        if let nearest, nearest.value >= Self.clearFraction * nearest.thresholds.slow {
            return decide(resumed, resumed >= 1 ? .normal : .slowed, calm: 0,
                          "\(nearest.words) between \(nearest.format(Self.clearFraction * nearest.thresholds.slow)) and slow \(nearest.format(nearest.thresholds.slow)): holding")
        }
        return recover(from: resumed, calm: calmUpdates + 1, nearest: nearest)
    }

    /// All signals are clear: after enough calm updates in a row the factor climbs one step.
    private mutating func recover(from current: Double, calm: Int, nearest: Reading?) -> Decision {
        let under = nearest.map { "\($0.name) back under \($0.format(Self.clearFraction * $0.thresholds.slow))" } ?? "no signals"
        if current >= 1 {
            return decide(1, .normal, calm: calm, nearest.map { "\($0.words) under \($0.format(Self.clearFraction * $0.thresholds.slow))" } ?? "no signals")
        }
        guard calm >= Self.calmUpdatesBeforeRecovery else {
            return decide(current, .slowed, calm: calm, "\(under) for \(calm) of \(Self.calmUpdatesBeforeRecovery) updates: holding")
        }
        let raised = min(1, current + Self.recoveryStep)
        return decide(raised, raised >= 1 ? .normal : .recovering, calm: calm, "\(under) for \(calm) updates")
    }

    mutating func decide(_ newFactor: Double, _ newState: State, calm: Int, _ reason: String) -> Decision {
        // Four decimals: n/10000 is the double nearest the decimal, so 0.05 + 0.15 is exactly 0.2.
        factor = (newFactor * 10_000).rounded() / 10_000
        if newFactor > Self.floor { pausedUpdates = 0; pauseLows = [:] }
        state = newState
        calmUpdates = calm
        return Decision(factor: factor, state: state, reason: "\(reason); factor \(factor.formatted(maxFractionDigits: 4))")
    }
}
