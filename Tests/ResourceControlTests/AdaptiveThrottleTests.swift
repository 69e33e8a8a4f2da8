import ResourceControl
import Testing

/// The adaptive throttle as a specification: sequences of signals in, exact factors, states and
/// reasons out. Thresholds: io pressure slow 20% / pause 40% unless a test says otherwise.
@Suite("Adaptive throttle")
struct AdaptiveThrottleTests {
    typealias Signals = AdaptiveThrottle.Signals

    var throttle = AdaptiveThrottle(ioPressure: .init(slow: 20, pause: 40))

    /// Feeds io pressure values one update each; returns (factor, state) after each.
    mutating func run(io values: [Double]) -> [(Double, AdaptiveThrottle.State)] {
        values.map { value in
            let decision = throttle.update(Signals(ioPressure: value))
            return (decision.factor, decision.state)
        }
    }

    func same(_ actual: [(Double, AdaptiveThrottle.State)], _ expected: [(Double, AdaptiveThrottle.State)]) -> Bool {
        actual.count == expected.count && zip(actual, expected).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    @Test("quiet signals keep full speed")
    mutating func quiet() {
        let decision = throttle.update(Signals(ioPressure: 5))
        #expect(decision == .init(factor: 1, state: .normal, reason: "io pressure 5% under 15%; factor 1"))
    }

    @Test("a signal at its pause threshold pauses at once and the reason names it")
    mutating func pause() {
        let decision = throttle.update(Signals(ioPressure: 47))
        #expect(decision == .init(factor: 0, state: .paused, reason: "io pressure 47% ≥ pause 40%; factor 0"))
    }

    @Test("a signal at its slow threshold halves the factor every update, down to 0.05")
    mutating func halving() {
        let steps = run(io: [25, 25, 25, 25, 25, 25])
        #expect(same(steps, [(0.5, .slowed), (0.25, .slowed), (0.125, .slowed), (0.0625, .slowed), (0.05, .slowed), (0.05, .slowed)]))
        #expect(throttle.update(Signals(ioPressure: 21)).reason == "io pressure 21% ≥ slow 20%; factor 0.05")
    }

    @Test("recovery waits for 3 calm updates, then climbs 0.15 per update back to 1")
    mutating func recovery() {
        _ = run(io: [25, 25])
        let steps = run(io: [5, 5, 5, 5, 5, 5, 5, 5])
        #expect(same(steps, [
            (0.25, .slowed), (0.25, .slowed), (0.4, .recovering), (0.55, .recovering),
            (0.7, .recovering), (0.85, .recovering), (1, .normal), (1, .normal),
        ]))
    }

    @Test("the recovery reasons count the calm updates")
    mutating func recoveryReasons() {
        _ = run(io: [25])
        let reasons = (0..<3).map { _ in throttle.update(Signals(ioPressure: 3)).reason }
        #expect(reasons == [
            "io pressure back under 15% for 1 of 3 updates: holding; factor 0.5",
            "io pressure back under 15% for 2 of 3 updates: holding; factor 0.5",
            "io pressure back under 15% for 3 updates; factor 0.65",
        ])
    }

    @Test("between 0.75 × slow and slow the factor holds and the calm count starts over")
    mutating func hysteresisBand() {
        let steps = run(io: [25, 17, 10, 16, 10, 10, 10])
        #expect(same(steps, [
            (0.5, .slowed), (0.5, .slowed), (0.5, .slowed), (0.5, .slowed),
            (0.5, .slowed), (0.5, .slowed), (0.65, .recovering),
        ]))
        var fresh = AdaptiveThrottle(ioPressure: .init(slow: 20, pause: 40))
        #expect(fresh.update(Signals(ioPressure: 17)).reason == "io pressure 17% between 15% and slow 20%: holding; factor 1")
    }

    @Test("a signal hovering around the slow threshold only ever lowers the factor, never flaps")
    mutating func noFlapping() {
        let steps = run(io: [19, 21, 19, 21, 19, 21])
        #expect(same(steps, [(1, .normal), (0.5, .slowed), (0.5, .slowed), (0.25, .slowed), (0.25, .slowed), (0.125, .slowed)]))
    }

    @Test("a pause ends as soon as no signal is at pause: the slowest rate, then the usual recovery")
    mutating func afterPause() {
        let steps = run(io: [50, 25, 5, 5, 5, 5])
        #expect(same(steps, [(0, .paused), (0.05, .slowed), (0.05, .slowed), (0.05, .slowed), (0.2, .recovering), (0.35, .recovering)]))
        let calmAfterPause = run(io: [50, 5])
        #expect(same(calmAfterPause, [(0, .paused), (0.05, .slowed)]))
    }

    @Test("with several signals over their thresholds, the one furthest over is named")
    func worstSignalNamed() {
        var throttle = AdaptiveThrottle(
            cpuPressure: .init(slow: 30, pause: 60), ioPressure: .init(slow: 20, pause: 40),
            vmDiskLatency: .init(slow: 20, pause: 50)
        )
        let latency = AdaptiveThrottle.VMLatency(vm: "web1", milliseconds: 30)
        let slowed = throttle.update(Signals(cpuPressure: 35, ioPressure: 10, vmDiskLatency: latency))
        #expect(slowed.reason == "disk latency of VM web1 30 ms ≥ slow 20 ms; factor 0.5")
        let paused = throttle.update(Signals(cpuPressure: 65, ioPressure: 45, vmDiskLatency: latency))
        #expect(paused.reason == "io pressure 45% ≥ pause 40%; factor 0", "45/40 is further over than 65/60")
    }

    @Test("signals without thresholds, and signals not measured, are ignored")
    func ignored() {
        var ioOnly = AdaptiveThrottle(ioPressure: .init(slow: 20, pause: 40))
        #expect(ioOnly.update(Signals(cpuPressure: 99)) == .init(factor: 1, state: .normal, reason: "no signals; factor 1"))
        var none = AdaptiveThrottle()
        #expect(none.update(Signals(cpuPressure: 99, ioPressure: 99)).factor == 1)
    }

    @Test("the signals can come straight from a pressure sample")
    func fromPressureSample() {
        let sample = PressureSample(cpuSome: 12, ioSome: 47, ioFull: 9, cpuSomeAvg10: 3, ioSomeAvg10: 20, ioFullAvg10: 2, interval: 1)
        #expect(Signals(pressure: sample) == Signals(cpuPressure: 12, ioPressure: 47))
        #expect(Signals(pressure: nil) == Signals())
    }
}
