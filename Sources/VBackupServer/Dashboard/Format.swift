import Foundation

/// How numbers, sizes, durations and times read on the dashboard: binary units (a store's
/// chunks and a disk's capacity are powers of two), whole minutes for ages, and UTC times,
/// because the page is rendered on the server, which does not know the reader's zone.
enum Format {
    private static let byteUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]

    /// `1536` → "1.5 KiB", `5_368_709_120` → "5 GiB": one decimal below 100 (dropped when it
    /// is 0), none above, so a column of sizes stays short.
    static func bytes(_ count: Int64) -> String {
        let (value, unit) = scaled(Double(count))
        if unit == 0 { return "\(count) B" }
        return "\(decimal(value, digits: value < 100 ? 1 : 0, trimZero: true)) \(byteUnits[unit])"
    }

    static func rate(_ bytesPerSecond: Double) -> String {
        bytes(Int64(bytesPerSecond.rounded())) + "/s"
    }

    /// A value divided by 1024 until it is below 1024, and how many times that was done.
    static func scaled(_ value: Double) -> (value: Double, unit: Int) {
        var value = value
        var unit = 0
        while abs(value) >= 1024, unit < byteUnits.count - 1 {
            value /= 1024
            unit += 1
        }
        return (value, unit)
    }

    static func unitName(_ unit: Int) -> String {
        byteUnits[min(max(unit, 0), byteUnits.count - 1)]
    }

    /// "45 s", "12 min", "2 h 5 min", "3 d 4 h": the two largest units, the smaller one left
    /// out when it is zero.
    static func duration(_ seconds: Double) -> String {
        let total = Int(max(0, seconds).rounded(.down))
        if total < 60 { return "\(total) s" }
        let minutes = total / 60
        if minutes < 60 { return "\(minutes) min" }
        let hours = minutes / 60
        if hours < 24 { return pair(hours, "h", minutes % 60, "min") }
        return pair(hours / 24, "d", hours % 24, "h")
    }

    private static func pair(_ big: Int, _ bigUnit: String, _ small: Int, _ smallUnit: String) -> String {
        small == 0 ? "\(big) \(bigUnit)" : "\(big) \(bigUnit) \(small) \(smallUnit)"
    }

    /// "3 min ago"; "just now" under ten seconds, and also for a time slightly in the future
    /// (an agent's clock a little ahead of the server's).
    static func age(of date: Date, now: Date) -> String {
        let seconds = now.timeIntervalSince(date)
        return seconds < 10 ? "just now" : "\(duration(seconds)) ago"
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// "2025-03-01 02:15 UTC".
    static func time(_ date: Date) -> String {
        let c = utc.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d UTC", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    /// "03-01": short enough for a chart axis.
    static func monthDay(_ date: Date) -> String {
        let c = utc.dateComponents([.month, .day], from: date)
        return String(format: "%02d-%02d", c.month ?? 0, c.day ?? 0)
    }

    /// Fixed-point with `.` whatever the process locale, as HTML and SVG attributes need.
    static func decimal(_ value: Double, digits: Int, trimZero: Bool = false) -> String {
        let text = String(format: "%.\(digits)f", value)
        guard trimZero, digits > 0, text.hasSuffix("." + String(repeating: "0", count: digits)) else { return text }
        return String(text.dropLast(digits + 1))
    }
}
