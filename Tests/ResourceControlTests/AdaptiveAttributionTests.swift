import ResourceControl
import Testing

/// Host pressure that does not ease while every backup is paused is the host's own: after ten
/// paused updates the backups go on, judged by the pressure they add, and the background is
/// forgotten once the host calms down. Thresholds: cpu pressure slow 30% / pause 70%.
@Suite("Adaptive throttle: whose pressure is it")
struct AdaptiveAttributionTests {
    var throttle = AdaptiveThrottle(cpuPressure: .init(slow: 30, pause: 70))

    mutating func feed(_ values: [Double]) -> [AdaptiveThrottle.Decision] {
        values.map { throttle.update(AdaptiveThrottle.Signals(cpuPressure: $0)) }
    }

    @Test("pressure that stays at the pause level through ten paused updates is the host's own")
    mutating func attribution() {
        let paused = feed(Array(repeating: 80, count: 9) + [74])
        #expect(paused.dropLast().allSatisfy { $0.state == .paused && $0.factor == 0 })
        let judged = paused.last!
        #expect(judged.state == .slowed && judged.factor == 0.05)
        #expect(judged.reason.contains("cpu pressure stayed at or above pause 70% (lowest 74%) through 10 updates"), "\(judged.reason)")
        #expect(judged.reason.contains("host's own"))
        // Now 80% is 6 points added to the host's own 74%: calm, so the backups speed up again.
        let after = feed([80, 80, 80, 80])
        #expect(after.map(\.factor) == [0.05, 0.05, 0.2, 0.35])
        #expect(after.last!.reason.contains("added to the host's own 74%"), "\(after.last!.reason)")
    }

    @Test("pressure the backups add on top of the background still slows them")
    mutating func addedPressureSlows() {
        _ = feed(Array(repeating: 60, count: 0) + Array(repeating: 75, count: 10))
        let decision = feed([99]).last!   // 99 - 75 = 24: under slow 30
        #expect(decision.state != .paused)
        var strict = AdaptiveThrottle(cpuPressure: .init(slow: 10, pause: 70))
        for _ in 0..<10 { _ = strict.update(.init(cpuPressure: 75)) }
        let slowed = strict.update(.init(cpuPressure: 90))   // +15 over the host's own 75%
        #expect(slowed.state == .slowed && slowed.reason.contains("cpu pressure added to the host's own 75% 15%"), "\(slowed.reason)")
    }

    @Test("pressure between slow and pause that the backups at their slowest do not ease is the host's own too")
    mutating func slowLevel() {
        // Halving reaches the floor in 5 updates; 10 more at the floor and it is judged.
        let steps = feed(Array(repeating: 62, count: 15))
        #expect(steps[4].factor == 0.05 && steps[13].state == .slowed && steps[13].factor == 0.05)
        #expect(steps[14].reason.contains("cpu pressure stayed at or above slow 30% (lowest 62%)"), "\(steps[14].reason)")
        let after = feed([64, 64, 64, 64])
        #expect(after.map(\.factor) == [0.05, 0.05, 0.2, 0.35], "2 points over the host's own 62%: calm")
    }

    @Test("a short pause is not long enough to judge, and a calm host forgets its background")
    mutating func forget() {
        let short = feed([80, 80, 80, 10, 10, 10, 10])
        #expect(short[0...2].allSatisfy { $0.state == .paused })
        #expect(short.last!.factor == 0.05 + 0.15 * 2, "recovering normally, nothing attributed")
        _ = feed(Array(repeating: 80, count: 10))
        #expect(feed([80]).last!.state != .paused)
        _ = feed([10])                               // under 0.75 × slow: the background is forgotten
        #expect(feed([80]).last!.state == .paused, "a new episode pauses again")
    }
}
