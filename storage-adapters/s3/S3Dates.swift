import Foundation

/// The few date forms S3 speaks, formatted and parsed by hand (UTC, no locale, no formatter
/// objects shared between threads).
enum S3Dates {
    /// `20130524T000000Z`, for `x-amz-date`.
    static func amzDate(_ date: Date) -> String {
        let t = utc(date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)
    }

    /// `20130524`, the credential scope's day.
    static func day(_ date: Date) -> String { String(amzDate(date).prefix(8)) }

    /// `2030-01-01T00:00:00.000Z`, for object-lock dates.
    static func iso8601(_ date: Date) -> String {
        let t = utc(date)
        let millis = Int((date.timeIntervalSince1970 - floor(date.timeIntervalSince1970)) * 1000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                      t.tm_hour, t.tm_min, t.tm_sec, millis)
    }

    /// `2026-11-22T05:00:26Z`, with any number of fractional digits (RGW sends nine).
    static func parseISO8601(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
              bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ start: Int, _ length: Int) -> Int32? { Int32(String(decoding: bytes[start..<start + length], as: UTF8.self)) }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2) else { return nil }
        var fraction = 0.0
        if bytes[19] == UInt8(ascii: ".") {
            let digits = String(decoding: bytes[19..<bytes.count - 1], as: UTF8.self)
            guard let value = Double("0" + digits) else { return nil }
            fraction = value
        } else if bytes.count != 20 {
            return nil
        }
        return date(year: year, month: month, day: day, hour: hour, minute: minute, second: second, fraction: fraction)
    }

    /// `Sun, 22 Nov 2026 04:59:56 GMT` (RFC 7231's IMF-fixdate), for `Last-Modified`.
    static func parseHTTPDate(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int32(parts[1]), let year = Int32(parts[3]),
              let month = months.firstIndex(of: String(parts[2])) else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int32($0) }
        guard clock.count == 3 else { return nil }
        return date(year: year, month: Int32(month + 1), day: day, hour: clock[0], minute: clock[1], second: clock[2], fraction: 0)
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func date(year: Int32, month: Int32, day: Int32, hour: Int32, minute: Int32, second: Int32, fraction: Double) -> Date {
        var t = tm()
        t.tm_year = year - 1900
        t.tm_mon = month - 1
        t.tm_mday = day
        t.tm_hour = hour
        t.tm_min = minute
        t.tm_sec = second
        return Date(timeIntervalSince1970: Double(timegm(&t)) + fraction)
    }

    private static func utc(_ date: Date) -> tm {
        var seconds = time_t(floor(date.timeIntervalSince1970))
        var t = tm()
        gmtime_r(&seconds, &t)
        return t
    }
}
