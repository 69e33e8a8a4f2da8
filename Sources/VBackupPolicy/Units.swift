import Foundation

/// A value in a policy file that does not parse; `message` says what was expected, so the
/// reader can put it after the key's path and line.
public struct PolicyValueError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A bandwidth setting. `unlimited` is kept apart from "not set" (an optional) because a
/// time-of-day limit that says `off` must lift the base cap, while one that says nothing keeps it.
public enum Bandwidth: Hashable, Sendable, CustomStringConvertible {
    case unlimited
    case bytesPerSecond(UInt64)

    /// The cap in bytes per second; nil when unlimited.
    public var limit: UInt64? {
        if case .bytesPerSecond(let rate) = self { return rate }
        return nil
    }

    public var description: String {
        guard let limit else { return "unlimited" }
        return Units.describe(bytesPerSecond: limit)
    }
}

/// The units of policy files: rates, durations, percentages and latencies, parsed from the text
/// people write and described back the same way.
enum Units {
    /// Largest first, so a rate is described in the biggest unit that divides it exactly.
    static let rateUnits: [(name: String, bytes: UInt64)] = [
        ("GiB/s", 1 << 30), ("GB/s", 1_000_000_000), ("MiB/s", 1 << 20), ("MB/s", 1_000_000),
        ("KiB/s", 1 << 10), ("KB/s", 1_000), ("B/s", 1),
    ]
    static let rateHelp = "a rate such as 50MiB/s (B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s) or off"

    /// `50MiB/s`, `1.5 GB/s`, `off`, `unlimited`. Zero is refused: it would stall every job.
    static func bandwidth(_ text: String) throws(PolicyValueError) -> Bandwidth {
        if ["off", "unlimited"].contains(text.lowercased()) { return .unlimited }
        let (number, unit) = split(text)
        let match = rateUnits.first { $0.name == unit || ($0.name == "KB/s" && unit == "kB/s") }
        guard let value = Double(number), value.isFinite, let match else {
            throw PolicyValueError("'\(text)' is not \(rateHelp)")
        }
        let bytes = (value * Double(match.bytes)).rounded()
        guard bytes >= 1, bytes < 1e18 else {
            throw PolicyValueError("'\(text)' must be at least 1 B/s (write off for no limit)")
        }
        return .bytesPerSecond(UInt64(bytes))
    }

    static let durationHelp = "a duration such as 90s, 30m, 4h, 1d or 1h30m"

    /// `90s`, `30m`, `4h`, `1d`, `1h30m`: whole numbers of days, hours, minutes and seconds, each
    /// unit at most once and largest first. Zero is allowed here; callers that need a positive
    /// duration say so.
    static func duration(_ text: String) throws(PolicyValueError) -> TimeInterval {
        let sizes: [Character: Int] = ["d": 86_400, "h": 3_600, "m": 60, "s": 1]
        let order: [Character] = ["d", "h", "m", "s"]
        var total = 0, digits = "", lastUnit = -1
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
            } else if let size = sizes[character], let rank = order.firstIndex(of: character),
                      rank > lastUnit, let count = Int(digits), count < 1_000_000 {
                total += count * size
                lastUnit = rank
                digits = ""
            } else {
                throw PolicyValueError("'\(text)' is not \(durationHelp)")
            }
        }
        guard digits.isEmpty, lastUnit >= 0 else { throw PolicyValueError("'\(text)' is not \(durationHelp)") }
        return TimeInterval(total)
    }

    /// `40%`, `12.5%`: the number of percent.
    static func percent(_ text: String) throws(PolicyValueError) -> Double {
        guard text.hasSuffix("%"), let value = Double(text.dropLast().trimmingCharacters(in: .whitespaces)),
              value.isFinite, !text.dropLast().contains(where: { $0 == "e" || $0 == "E" }) else {
            throw PolicyValueError("'\(text)' is not a percentage such as 40% or 12.5%")
        }
        return value
    }

    /// `20ms`, `1s`, `500us`, `0.5ms`: seconds.
    static func latency(_ text: String) throws(PolicyValueError) -> TimeInterval {
        let (number, unit) = split(text)
        let scale: [String: Double] = ["us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1]
        guard let value = Double(number), value.isFinite, value >= 0, let factor = scale[unit] else {
            throw PolicyValueError("'\(text)' is not a latency such as 20ms, 500us or 1s")
        }
        return value * factor
    }

    /// A number and the unit after it, with or without a space between them.
    private static func split(_ text: String) -> (number: String, unit: String) {
        let number = text.prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" }
        return (String(number), text.dropFirst(number.count).trimmingCharacters(in: .whitespaces))
    }

    // MARK: - Descriptions

    static func describe(bytesPerSecond value: UInt64) -> String {
        let unit = rateUnits.first { value % $0.bytes == 0 }!  // B/s divides everything
        return "\(value / unit.bytes) \(unit.name)"
    }

    /// `1h30m`, `4h`, `0s`: the form `duration(_:)` reads.
    static func describe(duration: TimeInterval) -> String {
        var rest = Int(duration.rounded())
        guard rest > 0 else { return "0s" }
        var text = ""
        for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }

    static func describe(percent: Double) -> String {
        "\(plain(percent))%"
    }

    static func describe(latency: TimeInterval) -> String {
        latency >= 1 ? "\(plain(latency))s" : latency >= 1e-3 ? "\(plain(latency * 1e3))ms" : "\(plain(latency * 1e6))us"
    }

    /// `40`, `12.5`: no trailing `.0`, and no binary-fraction noise.
    static func plain(_ value: Double) -> String {
        let rounded = (value * 1_000_000).rounded() / 1_000_000
        return rounded == rounded.rounded() ? String(Int64(rounded)) : String(rounded)
    }
}
