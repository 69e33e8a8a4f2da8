/// The CPU policy the agent asks for, in cgroup v2 terms; each mechanism translates it.
public struct CPULimits: Codable, Sendable, Equatable {
    /// A hard cap in percent of one core (50 = half a core, 150 = one and a half); nil = no cap.
    /// Values below 1 % are raised to 1 %, the kernel's smallest quota (1 ms per 100 ms period).
    public var quotaPercentOfOneCore: Double?
    /// Proportional share against other groups when the CPU is contended: 1...10000, default 100
    /// (cgroup v2's `cpu.weight`); clamped into range.
    public var weight: Int?

    public init(quotaPercentOfOneCore: Double? = nil, weight: Int? = nil) {
        self.quotaPercentOfOneCore = quotaPercentOfOneCore
        self.weight = weight
    }

    /// The scheduling period both cgroup versions use here: 100 ms, the kernel's default.
    static let periodMicroseconds = 100_000

    /// The quota per period in microseconds; nil = no cap.
    var quotaMicroseconds: Int? {
        guard let percent = quotaPercentOfOneCore, percent.isFinite else { return nil }
        let microseconds = (percent / 100 * Double(Self.periodMicroseconds)).rounded()
        return Int(min(max(microseconds, 1000), 1e12))
    }

    var effectiveWeight: Int { min(10_000, max(1, weight ?? 100)) }

    /// cgroup v1 `cpu.shares` for the weight: default 1024 ↔ weight 100, never below the kernel's 2.
    var shares: Int { max(2, Int((Double(effectiveWeight) * 10.24).rounded())) }

    /// cgroup v2 `cpu.max`.
    var cpuMax: String { "\(quotaMicroseconds.map { String($0) } ?? "max") \(Self.periodMicroseconds)" }

    /// "cap 50% of a core" or "no cap".
    var capInWords: String {
        guard let quota = quotaMicroseconds else { return "no cap" }
        let percent = Double(quota) / Double(Self.periodMicroseconds) * 100
        return "cap \(percent.formatted(maxFractionDigits: 1))% of a core"
    }
}

extension Double {
    /// "47", "22.5": at most `digits` decimals, no trailing zeros; for reasons and descriptions.
    func formatted(maxFractionDigits digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (self * scale).rounded() / scale
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        var text = String(rounded)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
