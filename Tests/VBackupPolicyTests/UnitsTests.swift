import Foundation
import Testing
import VBackupPolicy

/// Rates, durations, percentages and latencies as written in policy files.
@Suite("Units")
struct UnitsTests {
    @Test("rates: decimal and binary units, decimals, off", arguments: [
        ("1B/s", Bandwidth.bytesPerSecond(1)),
        ("10KB/s", .bytesPerSecond(10_000)), ("10kB/s", .bytesPerSecond(10_000)), ("10KiB/s", .bytesPerSecond(10_240)),
        ("50MB/s", .bytesPerSecond(50_000_000)), ("50MiB/s", .bytesPerSecond(52_428_800)), ("50 MiB/s", .bytesPerSecond(52_428_800)),
        ("1.5GB/s", .bytesPerSecond(1_500_000_000)), ("2GiB/s", .bytesPerSecond(2_147_483_648)),
        ("off", .unlimited), ("unlimited", .unlimited),
    ])
    func rates(_ text: String, _ value: Bandwidth) throws {
        #expect(try policy("throttle: {job-bandwidth: \(text)}").throttle.jobBandwidth == value)
    }

    @Test("rates are described in the largest unit that divides them exactly")
    func rateDescriptions() {
        #expect(Bandwidth.bytesPerSecond(52_428_800).description == "50 MiB/s")
        #expect(Bandwidth.bytesPerSecond(1_500_000_000).description == "1500 MB/s")
        #expect(Bandwidth.bytesPerSecond(1_000_001).description == "1000001 B/s")
        #expect(Bandwidth.unlimited.description == "unlimited")
    }

    @Test("durations: whole days, hours, minutes and seconds, largest unit first", arguments: [
        ("90s", 90.0), ("30m", 1_800), ("4h", 14_400), ("1d", 86_400), ("1h30m", 5_400), ("1d2h3m4s", 93_784),
    ])
    func durations(_ text: String, _ seconds: Double) throws {
        let parsed = try policy("schedule:\n  - calendar: daily\n    window: \(text)\n").schedules[0]
        #expect(parsed.window == seconds)
    }

    @Test("bad durations are refused", arguments: ["4", "h", "1.5h", "30m1h", "1h1h", "-1h", "4 h"])
    func badDurations(_ text: String) {
        #expect(onlyError("version: 1\nname: t\nschedule:\n  - calendar: daily\n    window: \(text)\n")
                == "5: schedule[0].window: '\(text)' is not a duration such as 90s, 30m, 4h, 1d or 1h30m")
    }

    @Test("percentages and latencies")
    func percentagesAndLatencies() throws {
        let adaptive = try policy("""
            throttle:
              cpu: 12.5%
              adaptive:
                cpu-pressure: {slow: 0.5%, pause: 100%}
                vm-disk-latency: {slow: 500us, pause: 1.5s}
            """).throttle
        #expect(adaptive.cpuPercent == 12.5)
        #expect(adaptive.adaptive.cpuPressure == Thresholds(slow: 0.5, pause: 100))
        #expect(adaptive.adaptive.vmDiskLatency == Thresholds(slow: 0.0005, pause: 1.5))
    }
}
