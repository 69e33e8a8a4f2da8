import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The time source of the bandwidth and pressure accounting. It is a protocol so the accounting can
/// be tested on a hand-driven clock without sleeping; production uses `SystemClock`. Monotonic
/// because wall-clock steps (NTP, an operator fixing the date) must never refill or drain a bucket.
public protocol MonotonicClock: Sendable {
    /// Nanoseconds since an arbitrary fixed origin; never decreases.
    func nanoseconds() -> UInt64
}

extension MonotonicClock {
    /// Seconds between two readings of this clock, as a Double (0 if `later` is not later).
    static func seconds(from earlier: UInt64, to later: UInt64) -> Double {
        later > earlier ? Double(later - earlier) / 1e9 : 0
    }
}

/// `CLOCK_MONOTONIC`: keeps counting across wall-clock changes, stops nowhere but at suspend.
public struct SystemClock: MonotonicClock {
    public init() {}

    public func nanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

/// A clock that moves only when told to, so tests state exactly how much time passed.
public final class ManualClock: MonotonicClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: UInt64

    /// Starts at 1000 s rather than 0 so "no earlier reading" and "time zero" never look alike.
    public init(startingAt nanoseconds: UInt64 = 1_000_000_000_000) {
        now = nanoseconds
    }

    public func nanoseconds() -> UInt64 {
        lock.withLock { now }
    }

    public func advance(seconds: Double) {
        precondition(seconds >= 0, "a monotonic clock never goes back")
        lock.withLock { now += UInt64((seconds * 1e9).rounded()) }
    }
}
