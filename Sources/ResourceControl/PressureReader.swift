import Foundation

/// Linux pressure stall information (PSI) as the throttle wants it: the share of wall time since
/// the previous sample in which tasks stalled, from the kernel's cumulative `total=` microsecond
/// counters. The kernel's own avg10 lags by design (a 10 s exponential average); a difference of
/// totals over the last second shows a stall the moment it happens and its end just as fast.
public struct PressureSample: Codable, Sendable, Equatable {
    /// Percent of the interval in which at least one runnable task waited for a CPU.
    public var cpuSome: Double
    /// Percent of the interval in which at least one task waited for I/O.
    public var ioSome: Double
    /// Percent of the interval in which every non-idle task waited for I/O at once.
    public var ioFull: Double
    /// The kernel's 10-second averages, for display beside the instant values.
    public var cpuSomeAvg10: Double
    public var ioSomeAvg10: Double
    public var ioFullAvg10: Double
    /// Seconds the percentages cover; 0 for a reader's very first sample, which then carries the
    /// avg10 values instead (there is no earlier total to subtract).
    public var interval: Double

    public init(
        cpuSome: Double, ioSome: Double, ioFull: Double,
        cpuSomeAvg10: Double, ioSomeAvg10: Double, ioFullAvg10: Double, interval: Double
    ) {
        self.cpuSome = cpuSome
        self.ioSome = ioSome
        self.ioFull = ioFull
        self.cpuSomeAvg10 = cpuSomeAvg10
        self.ioSomeAvg10 = ioSomeAvg10
        self.ioFullAvg10 = ioFullAvg10
        self.interval = interval
    }
}

/// Samples /proc/pressure/{cpu,io}. `sample()` returns nil when PSI is not available (kernel
/// without CONFIG_PSI, `psi=0`, a container hiding it), and the agent says so.
public struct PressureReader: Sendable {
    public let root: String
    private let clock: any MonotonicClock
    private var previous: Totals?

    /// Reads once right away, so the first `sample()` already covers the time since creation.
    public init(root: String = "/proc/pressure", clock: any MonotonicClock = SystemClock()) {
        self.root = root
        self.clock = clock
        previous = read()
    }

    public mutating func sample() -> PressureSample? {
        guard let now = read() else { return nil }
        defer { previous = now }
        guard let previous, now.at > previous.at else {
            return PressureSample(
                cpuSome: now.cpuSome.avg10, ioSome: now.ioSome.avg10, ioFull: now.ioFull.avg10,
                cpuSomeAvg10: now.cpuSome.avg10, ioSomeAvg10: now.ioSome.avg10, ioFullAvg10: now.ioFull.avg10, interval: 0
            )
        }
        let wallMicroseconds = Double(now.at - previous.at) / 1000
        func percent(_ later: PSILine, _ earlier: PSILine) -> Double {
            let stalled = later.total >= earlier.total ? Double(later.total - earlier.total) : 0
            return min(100, stalled / wallMicroseconds * 100)
        }
        return PressureSample(
            cpuSome: percent(now.cpuSome, previous.cpuSome), ioSome: percent(now.ioSome, previous.ioSome),
            ioFull: percent(now.ioFull, previous.ioFull),
            cpuSomeAvg10: now.cpuSome.avg10, ioSomeAvg10: now.ioSome.avg10, ioFullAvg10: now.ioFull.avg10,
            interval: Double(now.at - previous.at) / 1e9
        )
    }

    struct PSILine: Equatable {
        var avg10: Double
        var total: UInt64
    }

    private struct Totals {
        var at: UInt64
        var cpuSome: PSILine
        var ioSome: PSILine
        var ioFull: PSILine
    }

    private func read() -> Totals? {
        guard let cpu = try? ControlFile.read(root + "/cpu"), let io = try? ControlFile.read(root + "/io") else { return nil }
        let cpuLines = Self.parse(cpu), ioLines = Self.parse(io)
        guard let cpuSome = cpuLines["some"], let ioSome = ioLines["some"] else { return nil }
        let ioFull = ioLines["full"] ?? PSILine(avg10: 0, total: 0)
        return Totals(at: clock.nanoseconds(), cpuSome: cpuSome, ioSome: ioSome, ioFull: ioFull)
    }

    /// Lines like `some avg10=2.81 avg60=1.43 avg300=5.93 total=1953851908`, keyed by kind.
    static func parse(_ text: String) -> [String: PSILine] {
        var lines: [String: PSILine] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let kind = fields.first else { continue }
            var values: [Substring: Substring] = [:]
            for field in fields.dropFirst() {
                let pair = field.split(separator: "=", maxSplits: 1)
                if pair.count == 2 { values[pair[0]] = pair[1] }
            }
            guard let avg10 = values["avg10"].flatMap({ Double($0) }), let total = values["total"].flatMap({ UInt64($0) }) else { continue }
            lines[String(kind)] = PSILine(avg10: avg10, total: total)
        }
        return lines
    }
}
