import Foundation
import ResourceControl
import Testing

/// The governor against the real clock and real threads, as the backup engine's readers use it.
/// Serialized so the timings of one test do not disturb another's; each runs ≤ 6 s.
@Suite("Bandwidth governor in real time", .serialized)
struct GovernorRealTimeTests {
    let mib = 1_048_576.0

    func sleep(_ seconds: Double) { Thread.sleep(forTimeInterval: seconds) }

    func within(_ value: Double, _ target: Double, _ tolerance: Double) -> Bool {
        abs(value - target) <= tolerance * target
    }

    @Test("two readers under a 20 MiB/s host limit read 20 MiB/s together, half each")
    func twoReadersShareTheHost() {
        let governor = BandwidthGovernor(hostLimit: 20 * 1_048_576)
        let readers = ["a", "b"].map { GreedyReader(governor.register(name: $0, limit: nil), request: 256 * 1024) }
        let start = GreedyReader.now()
        readers.forEach { $0.start() }
        sleep(5)
        let end = GreedyReader.now()
        let snapshot = governor.snapshot()
        readers.forEach { $0.stop() }
        let rates = readers.map { $0.rate(from: start, to: end) }
        let total = rates.reduce(0, +)
        print("two readers: \(total / mib) MiB/s in all, \(rates.map { $0 / mib }) each")
        #expect(within(total, 20 * mib, 0.10), "aggregate \(total / mib) MiB/s")
        for rate in rates { #expect(within(rate / total, 0.5, 0.10), "share \(rate / total)") }
        #expect(within(snapshot.measuredRate, 20 * mib, 0.10), "the governor's meter: \(snapshot.measuredRate / mib)")
        #expect(snapshot.jobs.allSatisfy { $0.secondsWaited > 3 }, "greedy readers spend most of the time waiting")
    }

    @Test("a reader capped at 4 MiB/s beside an unlimited one under 20 MiB/s reads 4, the other 16")
    func cappedBesideUnlimited() {
        let governor = BandwidthGovernor(hostLimit: 20 * 1_048_576)
        let capped = GreedyReader(governor.register(name: "capped", limit: 4 * 1_048_576), request: 256 * 1024)
        let open = GreedyReader(governor.register(name: "open", limit: nil), request: 256 * 1024)
        let start = GreedyReader.now()
        [capped, open].forEach { $0.start() }
        sleep(4)
        let end = GreedyReader.now()
        [capped, open].forEach { $0.stop() }
        let rates = (capped.rate(from: start, to: end), open.rate(from: start, to: end))
        print("capped beside open: \(rates.0 / mib) and \(rates.1 / mib) MiB/s")
        #expect(within(rates.0, 4 * mib, 0.10), "capped read \(rates.0 / mib) MiB/s")
        #expect(within(rates.1, 16 * mib, 0.10), "open read \(rates.1 / mib) MiB/s")
    }

    @Test("no 1-second window exceeds 1.25× the limit, with 1 MiB reads and after an idle spell")
    func smooth() {
        let governor = BandwidthGovernor(hostLimit: 10 * 1_048_576)
        let job = governor.register(name: "vm", limit: nil)
        let first = GreedyReader(job, request: 1_048_576)
        first.start(); sleep(2.5); first.stop()
        sleep(1.5)
        let second = GreedyReader(job, request: 1_048_576)
        second.start(); sleep(2.5); second.stop()
        let worst = max(first.mostBytes(inAnyWindowOf: 1), second.mostBytes(inAnyWindowOf: 1))
        print("smoothness: fullest 1 s window \(worst / mib) MiB at a 10 MiB/s limit")
        #expect(worst <= 1.25 * 10 * mib, "fullest second held \(worst / mib) MiB")
    }

    @Test("changing the host limit mid-run changes the rate within moments")
    func hostLimitChange() {
        let governor = BandwidthGovernor(hostLimit: 16 * 1_048_576)
        let reader = GreedyReader(governor.register(name: "vm", limit: nil), request: 256 * 1024)
        let start = GreedyReader.now()
        reader.start()
        sleep(2.5)
        let change = GreedyReader.now()
        governor.setHostLimit(4 * 1_048_576)
        sleep(2.5)
        let end = GreedyReader.now()
        let meter = governor.snapshot().measuredRate
        reader.stop()
        let before = reader.rate(from: start, to: change)
        let after = reader.rate(from: change + 200_000_000, to: end)
        print("host limit change: \(before / mib) MiB/s, then \(after / mib) MiB/s (meter \(meter / mib))")
        #expect(within(before, 16 * mib, 0.10))
        #expect(within(after, 4 * mib, 0.10))
        #expect(within(meter, 4 * mib, 0.15), "the 2 s meter follows the new rate")
    }

    @Test("factor 0 blocks a reader; cancelling releases it within 200 ms, factor 1 within 100 ms")
    func pauseCancelResume() {
        let governor = BandwidthGovernor(hostLimit: nil)
        let job = governor.register(name: "vm", limit: nil)
        governor.setFactor(0)
        let cancelled = BlockedAdmit(job)
        sleep(0.33)  // mid-way through a 50 ms polling slice, not at its end
        #expect(cancelled.result == nil, "still blocked after 330 ms at factor 0")
        let cancelAt = GreedyReader.now()
        cancelled.cancel()
        let outcome = cancelled.wait()
        let cancelDelay = Double(outcome.at - cancelAt) / 1e9
        #expect(outcome.admitted == false)
        #expect(cancelDelay < 0.2, "released \(cancelDelay * 1000) ms after cancel")

        let resumed = BlockedAdmit(job)
        sleep(0.3)
        let resumeAt = GreedyReader.now()
        governor.setFactor(1)
        let resumedOutcome = resumed.wait()
        let resumeDelay = Double(resumedOutcome.at - resumeAt) / 1e9
        print("pause: cancel released in \(cancelDelay * 1000) ms, resume in \(resumeDelay * 1000) ms")
        #expect(resumedOutcome.admitted)
        #expect(resumeDelay < 0.1, "released \(resumeDelay * 1000) ms after factor 1")
    }
}

/// One `admit` call blocked on its own thread, with a cancel flag and the time it returned.
final class BlockedAdmit: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private(set) var outcome: (admitted: Bool, at: UInt64)?
    private let done = DispatchSemaphore(value: 0)

    init(_ job: JobBandwidth) {
        Thread { [self] in
            let admitted = job.admit(256 * 1024, isCancelled: { self.lock.withLock { self.cancelled } })
            lock.withLock { outcome = (admitted, GreedyReader.now()) }
            done.signal()
        }.start()
    }

    var result: Bool? { lock.withLock { outcome?.admitted } }

    func cancel() { lock.withLock { cancelled = true } }

    func wait() -> (admitted: Bool, at: UInt64) {
        done.wait()
        return lock.withLock { outcome! }
    }
}
