import Foundation
import ResourceControl

/// A backup reader thread in miniature: admits fixed-size blocks as fast as the governor lets it,
/// logging when each was admitted, so tests measure what actually passed rather than what the
/// governor says about itself.
final class GreedyReader: @unchecked Sendable {
    let job: JobBandwidth
    let request: Int
    private let lock = NSLock()
    private var admissions: [UInt64] = []
    private var stopRequested = false
    private let finished = DispatchSemaphore(value: 0)

    init(_ job: JobBandwidth, request: Int) {
        self.job = job
        self.request = request
    }

    static func now() -> UInt64 { SystemClock().nanoseconds() }

    func start() {
        Thread { [self] in
            while !isStopping, job.admit(request, isCancelled: { self.isStopping }) {
                let at = Self.now()
                lock.withLock { admissions.append(at) }
            }
            finished.signal()
        }.start()
    }

    /// Stops the thread (cancelling a blocked admit) and waits for it.
    func stop() {
        lock.withLock { stopRequested = true }
        finished.wait()
    }

    private var isStopping: Bool { lock.withLock { stopRequested } }

    /// Bytes admitted in [from, to), per second of that span.
    func rate(from: UInt64, to: UInt64) -> Double {
        let count = lock.withLock { admissions.filter { $0 >= from && $0 < to }.count }
        return Double(count * request) / (Double(to - from) / 1e9)
    }

    /// The most bytes admitted within any window of `seconds` (windows starting at an admission
    /// are the fullest ones, so checking those covers all).
    func mostBytes(inAnyWindowOf seconds: Double) -> Double {
        let times = lock.withLock { admissions }
        let span = UInt64(seconds * 1e9)
        var most = 0
        var end = 0
        for start in times.indices {
            while end < times.count, times[end] < times[start] + span { end += 1 }
            most = max(most, end - start)
        }
        return Double(most * request)
    }
}
