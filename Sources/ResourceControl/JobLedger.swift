/// The governor's books on one job. A class so the governor mutates it in place under its lock;
/// it is never touched outside that lock.
final class JobLedger {
    let name: String
    var limit: UInt64?
    var bucket: TokenBucket
    private(set) var meter = RateMeter()
    private(set) var bytes: UInt64 = 0
    private(set) var nanosecondsWaited: UInt64 = 0
    /// False once the job finished: it keeps its totals but no longer takes a share.
    var active = true

    init(name: String, limit: UInt64?, at now: UInt64) {
        self.name = name
        self.limit = limit
        // Unlimited until the governor's first rebalance, moments later under the same lock.
        self.bucket = TokenBucket(rate: nil, at: now)
    }

    func count(_ admitted: UInt64, at now: UInt64) {
        bytes += admitted
        meter.add(admitted, at: now)
    }

    func addWait(from start: UInt64, to end: UInt64) {
        nanosecondsWaited += end > start ? end - start : 0
    }

    func snapshot(at now: UInt64) -> BandwidthSnapshot.Job {
        BandwidthSnapshot.Job(
            name: name, limit: limit, effectiveRate: bucket.rate, bytes: bytes,
            measuredRate: meter.rate(at: now), secondsWaited: Double(nanosecondsWaited) / 1e9
        )
    }
}
