import Foundation
import Testing
import VBackupPolicy

/// Calendar expressions: when they fire, across DST changes, and how they read in English.
@Suite("Calendar expressions")
struct CalendarTests {
    @Test("a daily time fires every day, with the offset of the day, across the spring change in Paris")
    func dailyAcrossSpringChange() throws {
        #expect(try fires("*-*-* 01:00", in: paris, after: "2025-03-28T12:00:00+01:00") ==
                ["2025-03-29T01:00:00+01:00", "2025-03-30T01:00:00+01:00", "2025-03-31T01:00:00+02:00"])
    }

    @Test("a time skipped when clocks go forward fires once, when the clock reaches the end of the gap")
    func skippedTime() throws {
        #expect(try fires("*-*-* 02:30", in: paris, after: "2025-03-29T12:00:00+01:00") ==
                ["2025-03-30T03:00:00+02:00", "2025-03-31T02:30:00+02:00", "2025-04-01T02:30:00+02:00"])
        #expect(try fires("*-*-* 02:30", in: newYork, after: "2025-03-08T12:00:00-05:00", count: 2) ==
                ["2025-03-09T03:00:00-04:00", "2025-03-10T02:30:00-04:00"])
        // Every quarter hour: 02:00 to 02:45 do not exist; they and 03:00 fire once, at 03:00.
        #expect(try fires("*:0/15", in: paris, after: "2025-03-30T01:40:00+01:00") ==
                ["2025-03-30T01:45:00+01:00", "2025-03-30T03:00:00+02:00", "2025-03-30T03:15:00+02:00"])
        #expect(try fires("Sun 02:30", in: paris, after: "2025-03-23T03:00:00+01:00", count: 2) ==
                ["2025-03-30T03:00:00+02:00", "2025-04-06T02:30:00+02:00"], "a weekly run is not lost either")
    }

    @Test("a time repeated when clocks go back fires once, the first time")
    func repeatedTime() throws {
        #expect(try fires("*-*-* 02:30", in: paris, after: "2025-10-25T12:00:00+02:00", count: 2) ==
                ["2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00"])
        #expect(try fires("*-*-* 01:30", in: newYork, after: "2025-11-01T12:00:00-04:00", count: 2) ==
                ["2025-11-02T01:30:00-04:00", "2025-11-03T01:30:00-05:00"])
        #expect(try fires("*:30", in: paris, after: "2025-10-26T01:00:00+02:00") ==
                ["2025-10-26T01:30:00+02:00", "2025-10-26T02:30:00+02:00", "2025-10-26T03:30:00+01:00"])
        // Asked from inside the repeated hour, the repeat is not a new fire time.
        #expect(try fires("*:30", in: paris, after: "2025-10-26T02:10:00+01:00", count: 1) == ["2025-10-26T03:30:00+01:00"])
    }

    @Test("repetitions: start/step in every field")
    func repetitions() throws {
        #expect(try fires("*:0/15", in: utc, after: "2025-06-02T10:07:00Z") ==
                ["2025-06-02T10:15:00Z", "2025-06-02T10:30:00Z", "2025-06-02T10:45:00Z"])
        #expect(try fires("*:*:0/20", in: utc, after: "2025-06-02T10:00:05Z") ==
                ["2025-06-02T10:00:20Z", "2025-06-02T10:00:40Z", "2025-06-02T10:01:00Z"])
        #expect(try fires("*-*-* 1/3:00", in: utc, after: "2025-06-02T20:00:00Z") ==
                ["2025-06-02T22:00:00Z", "2025-06-03T01:00:00Z", "2025-06-03T04:00:00Z"])
        #expect(try fires("*-*-1/10 06:00", in: utc, after: "2025-07-21T07:00:00Z") ==
                ["2025-07-31T06:00:00Z", "2025-08-01T06:00:00Z", "2025-08-11T06:00:00Z"])
        #expect(try fires("*-*-* 8..18/5:00", in: utc, after: "2025-06-02T09:00:00Z") ==
                ["2025-06-02T13:00:00Z", "2025-06-02T18:00:00Z", "2025-06-03T08:00:00Z"])
        #expect(try fires("*-1,7-1 00:00", in: utc, after: "2025-02-01T00:00:00Z", count: 2) ==
                ["2025-07-01T00:00:00Z", "2026-01-01T00:00:00Z"])
    }

    @Test("weekdays: single days, ranges, lists and ranges that wrap past Sunday")
    func weekdays() throws {
        // 2025-06-06 is a Friday.
        #expect(try fires("Mon..Fri 09:00", in: utc, after: "2025-06-06T10:00:00Z") ==
                ["2025-06-09T09:00:00Z", "2025-06-10T09:00:00Z", "2025-06-11T09:00:00Z"])
        #expect(try fires("Sat,Sun *-*-* 10:00", in: utc, after: "2025-06-02T00:00:00Z") ==
                ["2025-06-07T10:00:00Z", "2025-06-08T10:00:00Z", "2025-06-14T10:00:00Z"])
        #expect(try fires("Fri..Mon 08:00", in: utc, after: "2025-06-04T00:00:00Z", count: 5) ==
                ["2025-06-06T08:00:00Z", "2025-06-07T08:00:00Z", "2025-06-08T08:00:00Z", "2025-06-09T08:00:00Z",
                 "2025-06-13T08:00:00Z"])
        #expect(try fires("weekly", in: utc, after: "2025-06-04T00:00:00Z", count: 2) ==
                ["2025-06-09T00:00:00Z", "2025-06-16T00:00:00Z"])
        #expect(try fires("Mon *-*-1..7 05:00", in: utc, after: "2025-06-01T00:00:00Z", count: 2) ==
                ["2025-06-02T05:00:00Z", "2025-07-07T05:00:00Z"], "the first Monday of each month: both must match")
    }

    @Test("month ends: the 31st is skipped in months that have 30 days or fewer")
    func monthEnds() throws {
        #expect(try fires("*-*-31 12:00", in: utc, after: "2025-03-31T13:00:00Z") ==
                ["2025-05-31T12:00:00Z", "2025-07-31T12:00:00Z", "2025-08-31T12:00:00Z"])
        #expect(try fires("monthly", in: utc, after: "2025-12-15T00:00:00Z", count: 2) ==
                ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"])
    }

    @Test("leap day: only in leap years, and 2100 is not one")
    func leapDay() throws {
        #expect(try fires("*-02-29 00:00", in: utc, after: "2025-01-01T00:00:00Z") ==
                ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z", "2036-02-29T00:00:00Z"])
        #expect(try fires("*-02-29 00:00", in: utc, after: "2096-03-01T00:00:00Z", count: 1) == ["2104-02-29T00:00:00Z"])
    }

    @Test("a single date fires once; shorthands mean what systemd means")
    func oneShotsAndShorthands() throws {
        #expect(try fires("2025-12-24 18:00", in: paris, after: "2025-01-01T00:00:00Z") == ["2025-12-24T18:00:00+01:00"])
        #expect(try fires("yearly", in: utc, after: "2025-06-01T00:00:00Z", count: 1) == ["2026-01-01T00:00:00Z"])
        #expect(try fires("hourly", in: utc, after: "2025-06-01T00:00:00Z", count: 1) == ["2025-06-01T01:00:00Z"])
        #expect(try fires("minutely", in: utc, after: "2025-06-01T00:00:30Z", count: 1) == ["2025-06-01T00:01:00Z"])
        #expect(try fires("daily", in: utc, after: "2025-06-01T00:00:00Z", count: 1) == ["2025-06-02T00:00:00Z"])
    }

    @Test("next(after:) is strictly after, also from a fractional second")
    func strictlyAfter() throws {
        let daily = try schedule("*-*-* 01:00", in: utc)
        #expect(daily.next(after: at("2025-06-02T01:00:00Z")) == at("2025-06-03T01:00:00Z"))
        #expect(daily.next(after: at("2025-06-02T00:59:59Z").addingTimeInterval(0.5)) == at("2025-06-02T01:00:00Z"))
    }

    @Test("descriptions read as plain English", arguments: [
        ("*-*-* 01:00", "every day at 01:00"),
        ("Sun 03:00", "every Sunday at 03:00"),
        ("Mon..Fri *-*-* 12,18:00", "every Monday to Friday at 12:00 and 18:00"),
        ("Sat,Sun 10:00:30", "every Saturday and Sunday at 10:00:30"),
        ("*:0/15", "every 15 minutes"),
        ("Mon..Fri *:0/30", "every 30 minutes, every Monday to Friday"),
        ("hourly", "every hour at minute 0"),
        ("*-*-* *:05", "every hour at minute 5"),
        ("*-*-* 0/2:00", "every 2 hours at minute 0"),
        ("*:*:0/20", "every 20 seconds"),
        ("minutely", "every minute"),
        ("monthly", "on day 1 of every month at 00:00"),
        ("*-*-1,15 06:00", "on days 1 and 15 of every month at 06:00"),
        ("yearly", "on 1 January at 00:00"),
        ("*-1,7-1 00:00", "on day 1 of the month, in January and July at 00:00"),
        ("2025-12-24 18:00", "on 2025-12-24 at 18:00"),
        ("*-*-* 8..18:0/30", "every day at hours 8..18, minutes 0/30, seconds 0"),
    ])
    func descriptions(_ expression: String, _ english: String) throws {
        #expect(try CalendarSpec(expression).description == english)
    }

    @Test("a schedule's description names its time zone")
    func scheduleDescription() throws {
        #expect(try schedule("*-*-* 01:00", in: paris).description == "every day at 01:00 Europe/Paris")
    }

    @Test("malformed expressions say what is wrong", arguments: [
        ("", "'' needs a time of day such as 01:00; the form is [WEEKDAYS] [YYYY-MM-DD] HH:MM[:SS], or minutely, hourly, daily, weekly, monthly, yearly"),
        ("Mon", "'Mon' needs a time of day such as 01:00; the form is [WEEKDAYS] [YYYY-MM-DD] HH:MM[:SS], or minutely, hourly, daily, weekly, monthly, yearly"),
        ("01:00 Mon", "'01:00 Mon' has 'Mon' where the time should be; the form is [WEEKDAYS] [YYYY-MM-DD] HH:MM[:SS], or minutely, hourly, daily, weekly, monthly, yearly"),
        ("*-13-01 00:00", "month 13 is out of range (1..12)"),
        ("*:0/0", "'0/0': the step after '/' must be a positive whole number"),
        ("*-*-5..1 00:00", "the day range 5..1 runs backwards"),
        ("*-*-* 1:2:3:4", "'1:2:3:4' is not a time HH:MM[:SS]; the form is [WEEKDAYS] [YYYY-MM-DD] HH:MM[:SS], or minutely, hourly, daily, weekly, monthly, yearly"),
        ("*-* 00:00", "'*-*' is not a date YYYY-MM-DD; the form is [WEEKDAYS] [YYYY-MM-DD] HH:MM[:SS], or minutely, hourly, daily, weekly, monthly, yearly"),
        ("*-*-* 1x:00", "'1x' is not a hour: use a number, a range such as 1..5, * or */STEP"),
        ("*-04-31 00:00", "'*-04-31 00:00' never matches: no such date exists"),
        ("Mon..Funday 00:00", "'Funday' is not a day of the week (Mon, Tue, Wed, Thu, Fri, Sat, Sun)"),
    ])
    func malformed(_ expression: String, _ message: String) {
        #expect(throws: PolicyValueError(message)) { try CalendarSpec(expression) }
    }

    @Test("fast enough for 200 VMs evaluated often: no per-second search")
    func speed() throws {
        let specs = try ["*:0/15", "Sun 03:00", "*-02-29 00:00", "*-*-31 12:00", "Mon..Fri *-*-* 12,18:00"].map {
            try schedule($0, in: paris)
        }
        let start = Date()
        var from = at("2025-01-01T00:00:00Z")
        for round in 0..<2_000 {
            for spec in specs { _ = spec.next(after: from) }
            from = from.addingTimeInterval(Double(round % 97) * 3_607)
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed < 5, "10,000 evaluations took \(elapsed) s")
    }
}
