import Foundation
import ResourceControl
import Testing

/// The governor's accounting on a hand-driven clock: shares, factor, baseline and meters, exactly,
/// without sleeping. The same behaviour in real time is in `GovernorRealTimeTests`.
@Suite("Bandwidth governor accounting")
struct GovernorAccountingTests {
    let mib = 1_048_576.0
    let request = 256 * 1024
    let clock = ManualClock()

    /// Greedy readers: every simulated millisecond each job reads as many blocks as its bucket lets
    /// it. Returns each job's bytes.
    func simulate(_ jobs: [JobBandwidth], seconds: Double) -> [Double] {
        var bytes = [Double](repeating: 0, count: jobs.count)
        for _ in 0..<Int(seconds * 1000) {
            for (index, job) in jobs.enumerated() {
                while job.tryAdmit(request) == .admitted { bytes[index] += Double(request) }
            }
            clock.advance(seconds: 0.001)
        }
        return bytes
    }

    func rates(_ snapshot: BandwidthSnapshot) -> [Double?] { snapshot.jobs.map(\.effectiveRate) }

    @Test("two greedy jobs under a 20 MiB/s host limit each read 10 MiB/s")
    func equalShares() {
        let governor = BandwidthGovernor(hostLimit: 20 * 1_048_576, clock: clock)
        let jobs = [governor.register(name: "a", limit: nil), governor.register(name: "b", limit: nil)]
        #expect(rates(governor.snapshot()) == [10 * mib, 10 * mib])
        let bytes = simulate(jobs, seconds: 10)
        for total in bytes {
            #expect(abs(total / 10 - 10 * mib) < 0.02 * 10 * mib, "read \(total / 10 / mib) MiB/s")
        }
        #expect(abs(governor.snapshot().measuredRate - 20 * mib) < 0.05 * 20 * mib)
    }

    @Test("a job capped at 4 MiB/s beside an unlimited one under 20 MiB/s: 4 and 16, then 20 when it leaves")
    func cappedBesideUnlimited() {
        let governor = BandwidthGovernor(hostLimit: 20 * 1_048_576, clock: clock)
        let capped = governor.register(name: "capped", limit: 4 * 1_048_576)
        let open = governor.register(name: "open", limit: nil)
        #expect(rates(governor.snapshot()) == [4 * mib, 16 * mib])
        let bytes = simulate([capped, open], seconds: 10)
        #expect(abs(bytes[0] / 10 - 4 * mib) < 0.02 * 4 * mib)
        #expect(abs(bytes[1] / 10 - 16 * mib) < 0.02 * 16 * mib)
        capped.finish()
        #expect(governor.snapshot().jobs.map(\.name) == ["open"])
        #expect(rates(governor.snapshot()) == [20 * mib])
    }

    @Test("changing a job's own limit re-splits the host at once")
    func limitChange() {
        let governor = BandwidthGovernor(hostLimit: 20 * 1_048_576, clock: clock)
        let first = governor.register(name: "a", limit: nil)
        let second = governor.register(name: "b", limit: nil)
        first.setLimit(2 * 1_048_576)
        #expect(rates(governor.snapshot()) == [2 * mib, 18 * mib])
        first.setLimit(nil)
        #expect(rates(governor.snapshot()) == [10 * mib, 10 * mib])
        withExtendedLifetime(second) {}
    }

    @Test("the factor scales every rate; factor 0 pauses every job, even an unlimited one")
    func factorScalesAndPauses() {
        let governor = BandwidthGovernor(hostLimit: 20 * 1_048_576, clock: clock)
        let capped = governor.register(name: "capped", limit: 4 * 1_048_576)
        let open = governor.register(name: "open", limit: nil)
        defer { withExtendedLifetime(open) {} }
        governor.setFactor(0.5)
        #expect(rates(governor.snapshot()) == [2 * mib, 8 * mib])
        #expect(governor.snapshot().effectiveHostRate == 10 * mib)
        governor.setFactor(0)
        #expect(rates(governor.snapshot()) == [0, 0])
        clock.advance(seconds: 60)
        #expect(capped.tryAdmit(request) == .wait(seconds: .infinity))

        let unlimitedHost = BandwidthGovernor(hostLimit: nil, clock: clock)
        let job = unlimitedHost.register(name: "free", limit: nil)
        unlimitedHost.setFactor(0)
        #expect(job.tryAdmit(request) == .wait(seconds: .infinity))
        #expect(unlimitedHost.snapshot().effectiveHostRate == 0, "paused reads as rate 0, not as unlimited")
    }

    @Test("with no host limit, slowing down caps the host at factor × the rate measured just before")
    func baselineWithoutHostLimit() {
        let governor = BandwidthGovernor(hostLimit: nil, clock: clock)
        let job = governor.register(name: "vm", limit: nil)
        for _ in 0..<20 {  // 2.5 MiB every 100 ms: 25 MiB/s, unthrottled
            for _ in 0..<10 { #expect(job.tryAdmit(request) == .admitted) }
            clock.advance(seconds: 0.1)
        }
        governor.setFactor(0.5)
        let slowed = governor.snapshot()
        #expect(slowed.baselineRate.map { abs($0 - 25 * mib) < 0.06 * 25 * mib } == true)
        #expect(slowed.effectiveHostRate == slowed.baselineRate.map { $0 * 0.5 })
        let measured = simulate([job], seconds: 5)[0] / 5
        #expect(abs(measured - 12.5 * mib) < 0.08 * 12.5 * mib, "read \(measured / mib) MiB/s")
        governor.setFactor(1)
        #expect(governor.snapshot().baselineRate == nil)
        #expect(rates(governor.snapshot()) == [nil])
    }

    @Test("slowing down while idle takes the baseline once traffic has flowed for a second")
    func baselineTakenLater() {
        let governor = BandwidthGovernor(hostLimit: nil, clock: clock)
        let job = governor.register(name: "vm", limit: nil)
        governor.setFactor(0.5)
        #expect(governor.snapshot().baselineRate == nil)
        #expect(rates(governor.snapshot()) == [nil], "nothing measured yet: nothing to scale")
        for _ in 0..<11 {  // 10 MiB/s for 1.1 s
            for _ in 0..<4 { _ = job.tryAdmit(request) }
            clock.advance(seconds: 0.1)
        }
        _ = job.tryAdmit(request)
        let baseline = governor.snapshot().baselineRate
        #expect(baseline.map { abs($0 - 10 * mib) < 0.1 * 10 * mib } == true, "baseline \(String(describing: baseline))")
        #expect(rates(governor.snapshot()) == [baseline.map { $0 * 0.5 }])
    }

    @Test("a job's measured rate covers the last 2 s and is 0 two seconds after it stops")
    func measuredRate() {
        let governor = BandwidthGovernor(hostLimit: 8 * 1_048_576, clock: clock)
        let job = governor.register(name: "vm", limit: nil)
        _ = simulate([job], seconds: 3)
        #expect(abs(job.measuredRate - 8 * mib) < 0.05 * 8 * mib, "measured \(job.measuredRate / mib) MiB/s")
        #expect(job.bytes >= UInt64(24 * mib))
        clock.advance(seconds: 1)
        #expect(abs(job.measuredRate - 4 * mib) < 0.1 * 4 * mib, "half the window was silent")
        clock.advance(seconds: 1.1)
        #expect(job.measuredRate == 0)
        #expect(governor.snapshot().measuredRate == 0)
    }

    @Test("a finished job reads without waiting and holds no share")
    func finishedJob() {
        let governor = BandwidthGovernor(hostLimit: 1_048_576, clock: clock)
        let job = governor.register(name: "done", limit: nil)
        job.finish()
        job.finish()
        for _ in 0..<100 { #expect(job.tryAdmit(request) == .admitted) }
        #expect(governor.snapshot().jobs.isEmpty)
    }

    @Test("dropping a job's handle finishes the job: its share goes back to the others")
    func droppedHandle() {
        let governor = BandwidthGovernor(hostLimit: 20 * 1_048_576, clock: clock)
        let kept = governor.register(name: "kept", limit: nil)
        do {
            let dropped = governor.register(name: "dropped", limit: nil)
            #expect(rates(governor.snapshot()) == [10 * mib, 10 * mib])
            withExtendedLifetime(dropped) {}
        }
        #expect(rates(governor.snapshot()) == [20 * mib])
        withExtendedLifetime(kept) {}
    }

    @Test("the snapshot survives a JSON round trip")
    func snapshotCodable() throws {
        let governor = BandwidthGovernor(hostLimit: 20 * 1_048_576, clock: clock)
        let job = governor.register(name: "vm", limit: 4 * 1_048_576)
        let snapshot = withExtendedLifetime(job) { governor.snapshot() }
        let data = try JSONEncoder().encode(snapshot)
        #expect(try JSONDecoder().decode(BandwidthSnapshot.self, from: data) == snapshot)
    }
}
