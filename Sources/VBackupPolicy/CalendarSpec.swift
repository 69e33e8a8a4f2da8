import Foundation

/// A calendar expression: the subset of systemd.time's `OnCalendar=` that policy schedules use.
///
///     [WEEKDAYS] [YYYY-MM-DD] HH:MM[:SS]
///
/// WEEKDAYS is a `DaySet` (`Mon`, `Mon..Fri`, `Sat,Sun`); each date and time field is a
/// `CalendarField` (`*`, `5`, `1,15`, `1..5`, `*/2`, `1/3`). The date defaults to `*-*-*`, the
/// seconds to `00`. Shorthands: `minutely`, `hourly`, `daily`, `weekly` (Monday 00:00),
/// `monthly` (the 1st, 00:00), `yearly` (1 January, 00:00). A time matches when every field and
/// the weekday match; a day that does not exist in a month (the 31st of April) never matches.
///
/// Matching is done on wall-clock time in a zone; `next(after:in:)` turns the match into an
/// instant with the DST rules of `ZoneClock.instant(of:)`.
public struct CalendarSpec: Hashable, Sendable {
    /// As written in the policy file.
    public let expression: String
    let weekdays: DaySet?
    let year: CalendarField
    let month: CalendarField
    let day: CalendarField
    let hour: CalendarField
    let minute: CalendarField
    let second: CalendarField

    static let shorthands: [String: String] = [
        "minutely": "*-*-* *:*:00", "hourly": "*-*-* *:00:00", "daily": "*-*-* 00:00:00",
        "weekly": "Mon *-*-* 00:00:00", "monthly": "*-*-01 00:00:00", "yearly": "*-01-01 00:00:00",
        "annually": "*-01-01 00:00:00",
    ]
    static let form = "the form is [WEEKDAYS] [YYYY-MM-DD] HH:MM[:SS], or minutely, hourly, daily, weekly, monthly, yearly"

    public init(_ expression: String) throws(PolicyValueError) {
        self.expression = expression
        let trimmed = expression.trimmingCharacters(in: .whitespaces)
        var tokens = (Self.shorthands[trimmed.lowercased()] ?? trimmed).split(whereSeparator: \.isWhitespace).map(String.init)
        weekdays = try tokens.first?.first?.isLetter == true ? DaySet(tokens.removeFirst()) : nil
        let date = tokens.first.map { $0.contains("-") && !$0.contains(":") } == true ? tokens.removeFirst() : "*-*-*"
        guard let time = tokens.first, tokens.count == 1, time.contains(":") else {
            let problem = tokens.isEmpty ? "needs a time of day such as 01:00" : "has '\(tokens.last!)' where the time should be"
            throw PolicyValueError("'\(expression)' \(problem); \(Self.form)")
        }
        let dateParts = date.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let timeParts = time.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard dateParts.count == 3 else { throw PolicyValueError("'\(date)' is not a date YYYY-MM-DD; \(Self.form)") }
        guard (2...3).contains(timeParts.count) else { throw PolicyValueError("'\(time)' is not a time HH:MM[:SS]; \(Self.form)") }
        year = try CalendarField(dateParts[0], unit: "year", domain: CalendarField.yearDomain)
        month = try CalendarField(dateParts[1], unit: "month", domain: 1...12)
        day = try CalendarField(dateParts[2], unit: "day", domain: 1...31)
        hour = try CalendarField(timeParts[0], unit: "hour", domain: 0...23)
        minute = try CalendarField(timeParts[1], unit: "minute", domain: 0...59)
        second = try timeParts.count == 3 ? CalendarField(timeParts[2], unit: "second", domain: 0...59) : CalendarField("0", unit: "second", domain: 0...59)
        guard firstMatch(atOrAfter: CivilTime(year: 1970, month: 1, day: 1)) != nil else {
            throw PolicyValueError("'\(expression)' never matches: no such date exists")
        }
    }

    /// The first instant strictly after `date` whose wall time in `zone` matches, or nil when
    /// none does before the year 2200. A wall time skipped by a DST jump fires once at the end
    /// of the gap; a wall time repeated when clocks go back fires once, the first time.
    public func next(after date: Date, in zone: TimeZone) -> Date? {
        let clock = ZoneClock(zone: zone)
        let after = Int(date.timeIntervalSince1970.rounded(.down))
        var candidate = clock.civil(at: after).adding(seconds: 1)
        // Only inside a repeated hour do matches map to instants not after `after`; each pass
        // moves at least one second on, so this bound is never reached by a valid search.
        for _ in 0..<100_000 {
            guard let match = firstMatch(atOrAfter: candidate) else { return nil }
            let instant = clock.instant(of: match)
            if instant > after { return Date(timeIntervalSince1970: TimeInterval(instant)) }
            candidate = match.adding(seconds: 1)
        }
        return nil
    }

    /// The first wall time ≥ `start` that matches. Each step settles one field, from the year
    /// down, and on a miss jumps to the start of the next larger unit, so the search costs a
    /// few steps per day or month skipped, never one per second.
    func firstMatch(atOrAfter start: CivilTime) -> CivilTime? {
        var time = start
        while true {
            guard let year = self.year.next(atOrAfter: time.year) else { return nil }
            if year != time.year { time = CivilTime(year: year, month: 1, day: 1) }
            guard let month = self.month.next(atOrAfter: time.month) else {
                time = CivilTime(year: year + 1, month: 1, day: 1)
                continue
            }
            if month != time.month { time = CivilTime(year: year, month: month, day: 1) }
            guard let day = matchingDay(year: year, month: month, from: time.day) else {
                time = month == 12 ? CivilTime(year: year + 1, month: 1, day: 1) : CivilTime(year: year, month: month + 1, day: 1)
                continue
            }
            if day != time.day { time = CivilTime(year: year, month: month, day: day) }
            guard let hour = self.hour.next(atOrAfter: time.hour) else { time = time.startOfNext(86_400); continue }
            if hour != time.hour { (time.hour, time.minute, time.second) = (hour, 0, 0) }
            guard let minute = self.minute.next(atOrAfter: time.minute) else { time = time.startOfNext(3_600); continue }
            if minute != time.minute { (time.minute, time.second) = (minute, 0) }
            guard let second = self.second.next(atOrAfter: time.second) else { time = time.startOfNext(60); continue }
            time.second = second
            return time
        }
    }

    /// The first allowed day ≥ `from` that exists in the month and falls on an allowed weekday.
    private func matchingDay(year: Int, month: Int, from: Int) -> Int? {
        let length = CivilTime.daysInMonth(year: year, month: month)
        var candidate = self.day.next(atOrAfter: from)
        while let value = candidate, value <= length {
            let weekday = CivilTime(year: year, month: month, day: value).weekday
            if weekdays?.contains(weekday: weekday) ?? true { return value }
            candidate = day.next(atOrAfter: value + 1)
        }
        return nil
    }
}
