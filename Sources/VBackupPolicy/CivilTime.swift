import Foundation

/// A wall-clock date and time without a zone, to the second. Calendar expressions are matched
/// against these, and only the final match is turned into an instant, so the search never asks
/// Foundation's `Calendar` (slow, and vague about DST gaps) anything.
struct CivilTime: Hashable, Sendable {
    var year: Int
    var month: Int
    var day: Int
    var hour = 0
    var minute = 0
    var second = 0

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's
    /// `days_from_civil`).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of `days(year:month:day:)` (`civil_from_days`), at `secondOfDay`.
    init(days: Int, secondOfDay: Int = 0) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shifted = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shifted + 2) / 5 + 1
        month = shifted < 10 ? shifted + 3 : shifted - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        hour = secondOfDay / 3_600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
    }

    init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        (self.year, self.month, self.day) = (year, month, day)
        (self.hour, self.minute, self.second) = (hour, minute, second)
    }

    /// This wall time read as if it were UTC, in seconds since the epoch: civil arithmetic
    /// (next minute, next day) is integer arithmetic on this.
    var secondsAsUTC: Int {
        Self.days(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60 + second
    }

    init(secondsAsUTC seconds: Int) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        self.init(days: days, secondOfDay: seconds - days * 86_400)
    }

    /// The wall time `seconds` later, or at the start of the next `unit` (60, 3600, 86400).
    func adding(seconds: Int) -> CivilTime { CivilTime(secondsAsUTC: secondsAsUTC + seconds) }
    func startOfNext(_ unit: Int) -> CivilTime {
        let seconds = secondsAsUTC
        return CivilTime(secondsAsUTC: seconds - seconds % unit + unit)
    }

    /// 1 = Monday ... 7 = Sunday (ISO 8601). 1970-01-01 was a Thursday.
    var weekday: Int {
        let days = Self.days(year: year, month: month, day: day)
        return ((days % 7 + 7 + 3) % 7) + 1
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// Wall times in one zone, to and from instants (whole seconds since the epoch).
struct ZoneClock {
    var zone: TimeZone

    func offset(at instant: Int) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant)))
    }

    func civil(at instant: Int) -> CivilTime {
        CivilTime(secondsAsUTC: instant + offset(at: instant))
    }

    /// The instant a wall time names. When clocks go back the wall time happens twice: this is
    /// the first, so a repeated time fires once. When clocks go forward it does not happen at
    /// all: this is the first instant after the jump (the end of the gap), so a skipped time
    /// still fires, once, as soon as the clock has passed it. Assumes at most one offset change
    /// within a day either side, which holds for every zone in the tz database.
    func instant(of civil: CivilTime) -> Int {
        let local = civil.secondsAsUTC
        let before = offset(at: local - 86_400), after = offset(at: local + 86_400)
        let valid = [local - before, local - after].filter { $0 + offset(at: $0) == local }
        if let first = valid.min() { return first }
        // In the gap: find the transition, the first instant whose wall time is past `local`.
        var low = local - max(before, after), high = local - min(before, after)
        guard low < high else { return local - before }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if middle + offset(at: middle) > local { high = middle } else { low = middle }
        }
        return high
    }
}
