import Foundation

/// The host's read-bandwidth budget, shared by every running backup job.
///
/// Each job has a token bucket (see `TokenBucket` for why it is only 100 ms deep). Its rate is
/// min(its own limit, its water-filled share of the host limit) × the adaptive factor, recomputed
/// whenever anything changes: a limit, the factor, a job joining or leaving. Readers blocked in
/// `JobBandwidth.admit` are woken by every change, so a new rate holds within one wake-up.
///
/// **"Slow down" without a host limit.** A factor below 1 must mean something when the host is
/// unlimited, so the governor remembers the aggregate rate measured over the ~2 s before the factor
/// first dropped below 1 (the baseline) and caps the host at factor × baseline until the factor is
/// back to 1. If nothing was flowing at that moment there is nothing to scale: the baseline is taken
/// once traffic has flowed for a second, and until then unlimited jobs run unlimited.
///
/// Thread-safe: one `NSCondition` guards all state; the engine's reader threads call in directly.
public final class BandwidthGovernor: @unchecked Sendable {
    /// The longest a blocked reader sleeps before looking at its cancellation flag again. Changes
    /// wake readers at once; only cancellation (a closure nobody can signal) relies on this.
    static let waitSlice = 0.05
    /// How long traffic must have flowed before its rate may serve as the baseline.
    static let baselineMinimumSeconds = 1.0

    let clock: any MonotonicClock
    let condition = NSCondition()
    private var hostLimit: UInt64?
    private var factor = 1.0
    private var baseline: Double?
    private var ledgers: [Int: JobLedger] = [:]
    private var nextID = 0
    private var aggregate = RateMeter()

    public init(hostLimit: UInt64?, clock: any MonotonicClock = SystemClock()) {
        self.hostLimit = hostLimit
        self.clock = clock
    }

    public func setHostLimit(_ bytesPerSecond: UInt64?) {
        change { _ in hostLimit = bytesPerSecond }
    }

    /// Sets the adaptive multiplier, clamped to 0...1; 0 pauses every job.
    public func setFactor(_ newFactor: Double) {
        change { now in
            factor = newFactor.isNaN ? 0 : min(1, max(0, newFactor))
            if factor >= 1 {
                baseline = nil
            } else {
                captureBaselineIfDue(at: now)
            }
        }
    }

    /// Adds a job; its share is carved out of the others' at once.
    public func register(name: String, limit: UInt64?) -> JobBandwidth {
        let id = change { now in
            nextID += 1
            ledgers[nextID] = JobLedger(name: name, limit: limit, at: now)
            return nextID
        }
        return JobBandwidth(governor: self, id: id)
    }

    public func snapshot() -> BandwidthSnapshot {
        condition.withLock {
            let now = clock.nanoseconds()
            let jobs = ledgers.keys.sorted().compactMap { id -> BandwidthSnapshot.Job? in
                guard let ledger = ledgers[id], ledger.active else { return nil }
                return ledger.snapshot(at: now)
            }
            return BandwidthSnapshot(
                hostLimit: hostLimit, factor: factor, effectiveHostRate: factor == 0 ? 0 : hostCapacity.map { $0 * factor },
                baselineRate: baseline, measuredRate: aggregate.rate(at: now), jobs: jobs
            )
        }
    }

    /// The host-wide rate before the factor: the configured limit, else the baseline while slowed.
    private var hostCapacity: Double? {
        if let hostLimit { return Double(hostLimit) }
        return factor < 1 ? baseline : nil
    }

    /// Applies a change under the lock, re-splits the rates and wakes every blocked reader.
    @discardableResult
    func change<T>(_ body: (UInt64) -> T) -> T {
        condition.withLock {
            let now = clock.nanoseconds()
            let result = body(now)
            rebalance(at: now)
            condition.broadcast()
            return result
        }
    }

    private func rebalance(at now: UInt64) {
        let active = ledgers.keys.sorted().compactMap { ledgers[$0] }.filter(\.active)
        let shares = FairShare.split(capacity: hostCapacity, limits: active.map { $0.limit.map { Double($0) } })
        for (ledger, share) in zip(active, shares) {
            ledger.bucket.setRate(factor == 0 ? 0 : share.map { $0 * factor }, at: now)
        }
    }

    /// Takes the baseline from the aggregate meter once traffic has flowed long enough to measure.
    private func captureBaselineIfDue(at now: UInt64) {
        guard factor < 1, baseline == nil else { return }
        let recent = aggregate.activeRate(at: now)
        guard recent.seconds >= Self.baselineMinimumSeconds, recent.bytesPerSecond > 0 else { return }
        baseline = recent.bytesPerSecond
        rebalance(at: now)
    }
}

// MARK: - Per-job operations, called by JobBandwidth

extension BandwidthGovernor {
    /// One admission attempt; the caller holds `condition`.
    func tryAdmitLocked(_ id: Int, bytes requested: Int, at now: UInt64) -> Admission {
        guard let ledger = ledgers[id], ledger.active else { return .admitted }
        let bytes = max(0, requested)
        captureBaselineIfDue(at: now)
        if let wait = ledger.bucket.take(bytes, at: now) { return .wait(seconds: wait) }
        ledger.count(UInt64(bytes), at: now)
        aggregate.add(UInt64(bytes), at: now)
        return .admitted
    }

    /// Blocks until the job may read `bytes`, polling `isCancelled` (outside the lock) at least
    /// every `waitSlice`.
    func admit(_ id: Int, bytes: Int, isCancelled: () -> Bool) -> Bool {
        let start = clock.nanoseconds()
        while !isCancelled() {
            let admitted = condition.withLock {
                let now = clock.nanoseconds()
                switch tryAdmitLocked(id, bytes: bytes, at: now) {
                case .admitted:
                    ledgers[id]?.addWait(from: start, to: now)
                    return true
                case .wait(let seconds):
                    _ = condition.wait(until: Date(timeIntervalSinceNow: min(seconds, Self.waitSlice)))
                    return false
                }
            }
            if admitted { return true }
        }
        condition.withLock { ledgers[id]?.addWait(from: start, to: clock.nanoseconds()) }
        return false
    }

    func tryAdmit(_ id: Int, bytes: Int) -> Admission {
        condition.withLock { tryAdmitLocked(id, bytes: bytes, at: clock.nanoseconds()) }
    }

    func setLimit(_ id: Int, _ limit: UInt64?) {
        change { _ in ledgers[id]?.limit = limit }
    }

    func finish(_ id: Int) {
        change { _ in ledgers[id]?.active = false }
    }

    /// Drops a job's ledger for good (its handle is gone).
    func forget(_ id: Int) {
        change { _ in ledgers[id] = nil }
    }

    func tally(_ id: Int) -> (bytes: UInt64, rate: Double) {
        condition.withLock {
            guard let ledger = ledgers[id] else { return (0, 0) }
            return (ledger.bytes, ledger.meter.rate(at: clock.nanoseconds()))
        }
    }
}
