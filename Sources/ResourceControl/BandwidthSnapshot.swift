/// What the bandwidth governor is doing at one moment, for the agent's status report and metrics.
/// Rates are bytes per second; a nil rate or limit means unlimited.
public struct BandwidthSnapshot: Codable, Sendable, Equatable {
    /// The configured host-wide limit.
    public var hostLimit: UInt64?
    /// The adaptive multiplier (0 = paused, 1 = full speed).
    public var factor: Double
    /// The host-wide rate actually enforced: the host limit × factor, or, with no host limit and a
    /// factor below 1, the measured baseline × factor. nil when nothing caps the host as a whole.
    public var effectiveHostRate: Double?
    /// The aggregate rate measured just before the factor first dropped below 1; nil while the
    /// factor is 1 (it is what "slow down" is relative to when there is no host limit).
    public var baselineRate: Double?
    /// All jobs together, measured over the last ~2 s.
    public var measuredRate: Double
    public var jobs: [Job]

    public struct Job: Codable, Sendable, Equatable {
        public var name: String
        /// The job's own limit.
        public var limit: UInt64?
        /// The rate the job is held to now: min(own limit, fair share of the host) × factor.
        public var effectiveRate: Double?
        /// Bytes admitted since the job registered.
        public var bytes: UInt64
        /// Measured over the last ~2 s.
        public var measuredRate: Double
        /// Total time the job's reader spent blocked in `admit`.
        public var secondsWaited: Double
    }
}
