/// Calendar expressions in plain English, for `vbackup policy check` and the agent's status:
/// "every day at 01:00", "every Sunday at 03:00", "every 15 minutes", "on 1 January at 00:00".
/// Common shapes get a sentence; anything else falls back to naming the fields as written.
extension CalendarSpec: CustomStringConvertible {
    public var description: String {
        let days = dayPhrase
        switch timePhrase {
        case .at(let time): return "\(days ?? "every day") at \(time)"
        case .repeating(let rhythm): return days.map { "\(rhythm), \($0)" } ?? rhythm
        }
    }

    private enum TimePhrase {
        /// Once a day at this time (or these times).
        case at(String)
        /// Several times a day: "every 15 minutes".
        case repeating(String)
    }

    private static let monthNames = ["January", "February", "March", "April", "May", "June", "July",
                                     "August", "September", "October", "November", "December"]

    private var timePhrase: TimePhrase {
        if let h = hour.single, let m = minute.single, let s = second.single {
            return .at(Self.clock(h, m, s))
        }
        if hour.values.count <= 6, let m = minute.single, let s = second.single {
            return .at(Self.joined(hour.values.map { Self.clock($0, m, s) }))
        }
        let hours = hour.isEvery ? 1 : hour.step
        if let hours, let m = minute.single, let s = second.single {
            let past = s == 0 ? "minute \(m)" : "\(m) minutes \(s) seconds past"
            return .repeating((hours == 1 ? "every hour" : "every \(hours) hours") + " at \(past)")
        }
        if hour.isEvery, let minutes = minute.isEvery ? 1 : minute.step, second.single == 0 {
            return .repeating(minutes == 1 ? "every minute" : "every \(minutes) minutes")
        }
        if hour.isEvery, minute.isEvery, let seconds = second.isEvery ? 1 : second.step {
            return .repeating(seconds == 1 ? "every second" : "every \(seconds) seconds")
        }
        return .at("hours \(hour.text), minutes \(minute.text), seconds \(second.text)")
    }

    /// Nil for every day.
    private var dayPhrase: String? {
        var parts: [String] = []
        if let weekdays { parts.append("every " + weekdays.description) }
        if let y = year.single, let m = month.single, let d = day.single {
            return (parts + ["on \(y)-\(Self.two(m))-\(Self.two(d))"]).joined(separator: ", ")
        }
        if let d = day.single, let m = month.single {
            parts.append("on \(d) \(Self.monthNames[m - 1])")
        } else {
            if !day.isEvery {
                let days = day.single.map { "day \($0)" } ?? "days \(Self.listed(day))"
                parts.append("on \(days) of " + (month.isEvery ? "every month" : "the month"))
            }
            if !month.isEvery { parts.append("in " + Self.joined(month.values.map { Self.monthNames[$0 - 1] })) }
        }
        if !year.isEvery { parts.append("in " + (year.single.map(String.init) ?? "years \(Self.listed(year))")) }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    private static func clock(_ h: Int, _ m: Int, _ s: Int) -> String {
        "\(two(h)):\(two(m))" + (s == 0 ? "" : ":\(two(s))")
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// A short list in words ("1, 10 and 20"), or the field as written when it is long.
    private static func listed(_ field: CalendarField) -> String {
        field.values.count <= 6 ? joined(field.values.map(String.init)) : field.text
    }

    private static func joined(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }
}
