import Foundation
import Testing
import VBackupPolicy

/// Retention, as a specification: Proxmox Backup Server's prune semantics on plain values.
@Suite("Retention planning")
struct RetentionTests {
    static let utc = TimeZone(identifier: "UTC")!

    /// A point whose id is its time, so expectations read as times.
    func point(_ time: String, protected: Bool = false) -> RetentionCandidate {
        RetentionCandidate(id: time, createdAt: date(time), isProtected: protected)
    }

    func date(_ time: String) -> Date {
        guard let date = ISO8601DateFormatter().date(from: time) else { fatalError("bad test time \(time)") }
        return date
    }

    func plan(_ points: [RetentionCandidate], _ rules: RetentionRules, in zone: TimeZone = utc) throws -> RetentionPlan {
        try Retention.plan(points.shuffled(), rules: rules, timeZone: zone)
    }

    func ids(_ entries: [RetentionPlan.Entry]) -> [String] { entries.map(\.point.id) }

    @Test("keep-last keeps the N newest points and removes every older one")
    func keepLast() throws {
        let points = (1...6).map { point("2026-01-0\($0)T12:00:00Z") }
        let result = try plan(points, RetentionRules(keepLast: 3))
        #expect(ids(result.entries) == points.reversed().map(\.id), "the plan lists every point, newest first")
        #expect(ids(result.kept) == ["2026-01-06T12:00:00Z", "2026-01-05T12:00:00Z", "2026-01-04T12:00:00Z"])
        #expect(result.kept.allSatisfy { $0.decision == .keep(.last) })
        #expect(ids(result.removed) == ["2026-01-03T12:00:00Z", "2026-01-02T12:00:00Z", "2026-01-01T12:00:00Z"])
        #expect(result.removed.allSatisfy { $0.decision == .remove(supersededBy: nil) })
    }

    @Test("keep-daily keeps the newest point of each of the last N days")
    func keepDaily() throws {
        var points: [RetentionCandidate] = []
        for day in 10...19 {
            for hour in ["02", "10", "18"] { points.append(point("2026-03-\(day)T\(hour):00:00Z")) }
        }
        let result = try plan(points, RetentionRules(keepDaily: 7))
        #expect(ids(result.kept) == (13...19).reversed().map { "2026-03-\($0)T18:00:00Z" })
        #expect(result.kept.allSatisfy { $0.decision == .keep(.daily) })
        for day in 13...19 {
            #expect(result.decision(for: "2026-03-\(day)T10:00:00Z") == .remove(supersededBy: .daily))
            #expect(result.decision(for: "2026-03-\(day)T02:00:00Z") == .remove(supersededBy: .daily))
        }
        for day in 10...12 {
            #expect(result.decision(for: "2026-03-\(day)T18:00:00Z") == .remove(supersededBy: nil), "day \(day) is beyond 7 days")
        }
        #expect(result.removed.count == 30 - 7)
    }

    @Test("keep-hourly keeps the newest point of each of the last N hours")
    func keepHourly() throws {
        let points = (0..<12).map { point(String(format: "2026-05-01T%02d:%02d:00Z", 8 + $0 / 3, ($0 % 3) * 20)) }
        let result = try plan(points, RetentionRules(keepHourly: 3))
        #expect(ids(result.kept) == ["2026-05-01T11:40:00Z", "2026-05-01T10:40:00Z", "2026-05-01T09:40:00Z"])
    }

    @Test("keep-weekly uses ISO 8601 weeks, which cross the calendar year boundary")
    func keepWeeklyAcrossYearBoundary() throws {
        // 2020-W52 is Dec 21-27; 2020-W53 is Mon Dec 28 2020 to Sun Jan 3 2021; 2021-W01 starts Jan 4.
        let days = ["2020-12-22", "2020-12-27", "2020-12-28", "2020-12-31", "2021-01-01", "2021-01-03", "2021-01-04", "2021-01-06"]
        let points = days.map { point("\($0)T12:00:00Z") }
        let result = try plan(points, RetentionRules(keepWeekly: 3))
        #expect(ids(result.kept) == ["2021-01-06T12:00:00Z", "2021-01-03T12:00:00Z", "2020-12-27T12:00:00Z"])
        #expect(result.decision(for: "2020-12-31T12:00:00Z") == .remove(supersededBy: .weekly),
                "Dec 31 2020 shares ISO week 2020-W53 with Jan 3 2021")

        // Monday Dec 30 2024 already belongs to 2025-W01.
        let late2024 = ["2024-12-29", "2024-12-30", "2025-01-01"].map { point("\($0)T12:00:00Z") }
        let result2024 = try plan(late2024, RetentionRules(keepWeekly: 2))
        #expect(ids(result2024.kept) == ["2025-01-01T12:00:00Z", "2024-12-29T12:00:00Z"])
    }

    @Test("keep-monthly and keep-yearly: yearly skips the years monthly already covers")
    func keepMonthlyAndYearly() throws {
        var points: [RetentionCandidate] = []
        for year in 2023...2025 {
            for month in 1...12 where year < 2025 || month <= 6 {
                points.append(point(String(format: "%d-%02d-15T12:00:00Z", year, month)))
            }
        }
        let result = try plan(points, RetentionRules(keepMonthly: 3, keepYearly: 2))
        #expect(ids(result.kept) == ["2025-06-15T12:00:00Z", "2025-05-15T12:00:00Z", "2025-04-15T12:00:00Z",
                                     "2024-12-15T12:00:00Z", "2023-12-15T12:00:00Z"])
        #expect(result.decision(for: "2024-12-15T12:00:00Z") == .keep(.yearly))
        #expect(result.decision(for: "2024-11-15T12:00:00Z") == .remove(supersededBy: .yearly))
        #expect(result.decision(for: "2025-03-15T12:00:00Z") == .remove(supersededBy: nil),
                "2025 is covered by monthly's points, so yearly never takes a 2025 point")
    }

    @Test("keep-last 3 + keep-daily 3: daily counts only days that keep-last did not cover (PBS example)")
    func rulesCombineWithoutDoubleCounting() throws {
        let points = ["2026-02-05T16:00:00Z", "2026-02-05T12:00:00Z", "2026-02-05T08:00:00Z", "2026-02-05T04:00:00Z",
                      "2026-02-04T16:00:00Z", "2026-02-04T08:00:00Z",
                      "2026-02-03T12:00:00Z", "2026-02-02T12:00:00Z", "2026-02-01T12:00:00Z"].map { point($0) }
        let result = try plan(points, RetentionRules(keepLast: 3, keepDaily: 3))
        #expect(result.kept.map(\.decision) == [.keep(.last), .keep(.last), .keep(.last), .keep(.daily), .keep(.daily), .keep(.daily)])
        #expect(ids(result.kept) == ["2026-02-05T16:00:00Z", "2026-02-05T12:00:00Z", "2026-02-05T08:00:00Z",
                                     "2026-02-04T16:00:00Z", "2026-02-03T12:00:00Z", "2026-02-02T12:00:00Z"])
        #expect(result.decision(for: "2026-02-05T04:00:00Z") == .remove(supersededBy: nil),
                "Feb 5 is covered by keep-last's points: daily neither keeps another point of it nor counts it")
        #expect(result.decision(for: "2026-02-04T08:00:00Z") == .remove(supersededBy: .daily))
        #expect(result.decision(for: "2026-02-01T12:00:00Z") == .remove(supersededBy: nil))
    }

    @Test("a protected point is never removed and takes no rule's slot")
    func protectedPoints() throws {
        let points = [point("2026-04-05T12:00:00Z", protected: true), point("2026-04-04T12:00:00Z"),
                      point("2026-04-03T12:00:00Z"), point("2026-04-02T12:00:00Z"),
                      point("2026-01-01T12:00:00Z", protected: true)]
        let result = try plan(points, RetentionRules(keepLast: 2))
        #expect(ids(result.protected) == ["2026-04-05T12:00:00Z", "2026-01-01T12:00:00Z"])
        #expect(ids(result.kept) == ["2026-04-04T12:00:00Z", "2026-04-03T12:00:00Z"], "two slots, both for unprotected points")
        #expect(ids(result.removed) == ["2026-04-02T12:00:00Z"])

        // A protected point does not fill its day: the day's newest unprotected point is kept.
        let sameDay = [point("2026-04-05T18:00:00Z", protected: true), point("2026-04-05T06:00:00Z"), point("2026-04-04T06:00:00Z")]
        let daily = try plan(sameDay, RetentionRules(keepDaily: 1))
        #expect(daily.decision(for: "2026-04-05T18:00:00Z") == .protected)
        #expect(daily.decision(for: "2026-04-05T06:00:00Z") == .keep(.daily))
        #expect(daily.decision(for: "2026-04-04T06:00:00Z") == .remove(supersededBy: nil))
    }

    @Test("no keep rule, or only zero counts, is refused rather than removing everything")
    func noRules() throws {
        let points = [point("2026-04-05T12:00:00Z")]
        #expect(throws: RetentionError.noKeepOptions) { try Retention.plan(points, rules: RetentionRules(), timeZone: Self.utc) }
        #expect(throws: RetentionError.noKeepOptions) {
            try Retention.plan(points, rules: RetentionRules(keepLast: 0, keepDaily: 0), timeZone: Self.utc)
        }
        #expect(throws: RetentionError.negativeCount(.weekly, -1)) {
            try Retention.plan(points, rules: RetentionRules(keepLast: 1, keepWeekly: -1), timeZone: Self.utc)
        }
        #expect("\(RetentionError.noKeepOptions)" == "no keep options: refusing to prune everything")
        #expect(try Retention.plan([], rules: RetentionRules(keepLast: 1), timeZone: Self.utc).entries.isEmpty)
    }

    @Test("days are days in the given time zone: 23:30 UTC is already tomorrow in Berlin")
    func timeZoneMatters() throws {
        let points = [point("2026-03-10T23:30:00Z"), point("2026-03-10T20:00:00Z"), point("2026-03-09T12:00:00Z")]
        let rules = RetentionRules(keepDaily: 2)
        let utc = try plan(points, rules)
        #expect(ids(utc.kept) == ["2026-03-10T23:30:00Z", "2026-03-09T12:00:00Z"], "in UTC the first two share March 10")
        let berlin = try plan(points, rules, in: TimeZone(identifier: "Europe/Berlin")!)
        #expect(ids(berlin.kept) == ["2026-03-10T23:30:00Z", "2026-03-10T20:00:00Z"],
                "in Berlin 23:30 UTC is March 11, 00:30, so March 10 keeps its 21:00 point")
    }

    @Test("flags override a policy's rules one by one")
    func overriding() {
        let file = RetentionRules(keepLast: 3, keepDaily: 7, keepWeekly: 4)
        let merged = file.overridden(by: RetentionRules(keepDaily: 14, keepYearly: 1))
        #expect(merged == RetentionRules(keepLast: 3, keepDaily: 14, keepWeekly: 4, keepYearly: 1))
        #expect(file.overridden(by: RetentionRules()) == file)
        #expect(RetentionRules(keepLast: 0).keepsSomething == false)
        #expect(RetentionRules(keepYearly: 1).keepsSomething)
    }
}
