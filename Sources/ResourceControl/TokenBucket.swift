/// One job's token bucket: pure accounting over clock readings passed in, so it is tested without
/// a clock at all.
///
/// The bucket is shallow on purpose: it holds at most `depthSeconds` (100 ms) of the rate. restic's
/// limiter allows a burst of a full second of rate (restic #1506: bursty uploads), which on a shared
/// host means a second of a disk or link at full speed, then nothing. Here a request larger than the
/// bucket is admitted as soon as the bucket is full and drives it negative (debt), so a 4 MiB read
/// at 1 MiB/s passes at once and the next waits about four seconds: large reads still average to the
/// rate without the bucket ever having to be as deep as the largest read.
struct TokenBucket: Sendable {
    /// How much of the rate the bucket can save up.
    static let depthSeconds = 0.1

    /// Bytes per second; nil = unlimited (the bucket is bypassed).
    private(set) var rate: Double?
    /// Bytes that may pass now; negative while paying off a large request.
    private(set) var tokens: Double
    private var updatedAt: UInt64

    /// A new bucket starts full: a job's first read passes at once (at most 100 ms of rate early).
    init(rate: Double?, at now: UInt64) {
        self.rate = rate
        self.tokens = rate.map { $0 * Self.depthSeconds } ?? 0
        self.updatedAt = now
    }

    /// The most tokens the bucket can hold at its current rate.
    var depth: Double { (rate ?? 0) * Self.depthSeconds }

    /// What a request of `bytes` must wait for: the request itself, or a full bucket if it is larger.
    func needed(for bytes: Int) -> Double { min(Double(bytes), depth) }

    /// Takes `bytes` if the bucket allows it now, else returns how many seconds until it will at the
    /// current rate (`.infinity` while the rate is 0, i.e. paused).
    mutating func take(_ bytes: Int, at now: UInt64) -> Double? {
        refill(at: now)
        guard let rate else { return nil }
        let needed = needed(for: bytes)
        if tokens >= needed, rate > 0 || bytes == 0 {
            tokens -= Double(bytes)
            return nil
        }
        guard rate > 0 else { return .infinity }
        return (needed - tokens) / rate
    }

    /// Changes the rate from `now` on: time before `now` is credited at the old rate, and the saved
    /// tokens are cut to the new depth so a rate cut takes hold at once instead of after a burst.
    mutating func setRate(_ newRate: Double?, at now: UInt64) {
        refill(at: now)
        let wasUnlimited = rate == nil
        rate = newRate
        if wasUnlimited {
            tokens = depth
        } else {
            tokens = min(tokens, depth)
        }
    }

    private mutating func refill(at now: UInt64) {
        defer { updatedAt = max(updatedAt, now) }
        guard let rate, now > updatedAt else { return }
        let earned = rate * Double(now - updatedAt) / 1e9
        tokens = min(depth, tokens + earned)
    }
}
