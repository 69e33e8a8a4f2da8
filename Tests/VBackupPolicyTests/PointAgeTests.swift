import Foundation
import Testing
import VBackupPolicy

/// How old a VM's last point may grow before the policy server calls it overdue.
@Suite("Maximum point age")
struct PointAgeTests {
    static let monday = at("2025-06-02T12:00:00Z")

    @Test("a nightly schedule allows a day plus its window")
    func nightly() throws {
        let nightly = try policy("schedule:\n  - calendar: \"*-*-* 01:00\"\n    window: 4h\n")
        #expect(nightly.maximumPointAge(from: Self.monday) == TimeInterval(24 * 3600 + 4 * 3600))
    }

    @Test("schedules merge: a weekly full beside a nightly incremental does not lengthen the gap")
    func merged() throws {
        let both = try policy("""
            schedule:
              - calendar: "*-*-* 01:00"
                window: 2h
              - calendar: "Sun *-*-* 03:00"
                window: 6h
                mode: full
            """ + "\n")
        // Saturday 01:00 → Sunday 01:00 is the longest gap: 24 h plus the 2 h window (the
        // Sunday full at 03:00 ends a 2 h gap, 2 h + 6 h).
        #expect(both.maximumPointAge(from: Self.monday) == TimeInterval(26 * 3600))
    }

    @Test("office-hours schedules: the weekend is the longest gap")
    func weekdays() throws {
        let weekdays = try policy("schedule:\n  - calendar: \"Mon..Fri 22:00\"\n    window: 1h\n")
        #expect(weekdays.maximumPointAge(from: Self.monday) == TimeInterval(3 * 86_400 + 3600), "Friday 22:00 to Monday 22:00")
    }

    @Test("no rhythm, no limit: a policy without schedules, or one that fires once in the horizon")
    func none() throws {
        #expect(try policy("").maximumPointAge(from: Self.monday) == nil)
        let yearly = try policy("schedule:\n  - calendar: \"*-01-01 00:00\"\n")
        #expect(yearly.maximumPointAge(from: Self.monday) == nil)
    }
}
