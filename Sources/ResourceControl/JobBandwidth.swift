/// One backup job's handle on the host bandwidth budget; its reader thread calls `admit` before
/// every block read. Dropping the handle finishes the job, so a forgotten `finish` cannot keep a
/// share reserved forever.
public final class JobBandwidth: Sendable {
    private let governor: BandwidthGovernor
    private let id: Int

    init(governor: BandwidthGovernor, id: Int) {
        self.governor = governor
        self.id = id
    }

    deinit {
        governor.forget(id)
    }

    /// Blocks until `bytes` may be read. Returns false, within ~50 ms, once `isCancelled()` is true
    /// (it is polled while waiting and before each attempt). After `finish` it returns true at once:
    /// a finished job holds no share to wait for.
    public func admit(_ bytes: Int, isCancelled: () -> Bool) -> Bool {
        governor.admit(id, bytes: bytes, isCancelled: isCancelled)
    }

    /// One attempt without blocking, for callers with their own waiting (an async task) and for
    /// tests on a `ManualClock`: `.admitted` means the bytes were counted and may be read now.
    public func tryAdmit(_ bytes: Int) -> Admission {
        governor.tryAdmit(id, bytes: bytes)
    }

    /// Changes this job's own limit (nil = unlimited); the shares of all jobs follow at once.
    public func setLimit(_ bytesPerSecond: UInt64?) {
        governor.setLimit(id, bytesPerSecond)
    }

    /// Leaves the budget; the job's share goes to the others at once. Safe to call twice.
    public func finish() {
        governor.finish(id)
    }

    /// Bytes admitted so far.
    public var bytes: UInt64 { governor.tally(id).bytes }

    /// Bytes per second over the last ~2 s.
    public var measuredRate: Double { governor.tally(id).rate }
}

/// The answer to one admission attempt.
public enum Admission: Equatable, Sendable {
    case admitted
    /// Not yet; try again after this many seconds at the current rates (`.infinity` while paused).
    /// Any change to limits or factor may shorten it.
    case wait(seconds: Double)
}
