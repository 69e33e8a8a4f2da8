import Foundation
import Testing
import VBackupPolicy

/// Immutable points in policies and in retention planning.
@Suite("Immutable points")
struct ImmutablePolicyTests {
    @Test("immutable: reads a duration; a bad or zero one is an error with its line")
    func policyKey() throws {
        #expect(try policy("immutable: 30d\n").immutableFor == 30 * 86_400)
        #expect(try policy("immutable: 1d12h\n").immutableFor == 36 * 3_600)
        #expect(try policy("retention:\n  keep-last: 3\n").immutableFor == nil)
        #expect(onlyError("version: 1\nname: test\nimmutable: 0s\n") == "3: immutable: must be longer than 0s")
        #expect(onlyError("version: 1\nname: test\nimmutable: forever\n")
            == "3: immutable: 'forever' is not a duration such as 90s, 30m, 4h, 1d or 1h30m")
        #expect(onlyError("version: 1\nname: test\nimmutable: 36500d\n")
            == "3: immutable: '36500d' is longer than ten years (3650d); an object lock cannot be shortened")
        let report = PolicyReport(try policy("immutable: 30d\n"), now: Date())
        #expect(report.lines.contains { $0.hasPrefix("  immutable: each point for 30d") }, "\(report.lines)")
    }

    @Test("an immutable point the rules would remove is kept until its date, and fills a rule's slot like any point")
    func planning() throws {
        let now = at("2026-03-10T12:00:00Z")
        let day = { (n: Int) in at("2026-03-0\(n)T01:00:00Z") }
        // Points of March 1..9; those of the 5th and later are immutable until the 20th.
        let points = (1...9).map { n in
            RetentionCandidate(id: "d\(n)", createdAt: day(n), immutableUntil: n >= 5 ? at("2026-03-20T00:00:00Z") : nil)
        }
        let plan = try Retention.plan(points, rules: RetentionRules(keepLast: 2), timeZone: utc, now: now)
        #expect(plan.kept.map(\.point.id) == ["d9", "d8"], "the rule keeps the two newest, immutable or not")
        #expect(plan.immutable.map(\.point.id) == ["d7", "d6", "d5"])
        #expect(plan.immutable.allSatisfy { $0.decision == .immutable(until: at("2026-03-20T00:00:00Z")) })
        #expect(plan.removed.map(\.point.id) == ["d4", "d3", "d2", "d1"])

        let later = try Retention.plan(points, rules: RetentionRules(keepLast: 2), timeZone: utc, now: at("2026-03-20T00:00:00Z"))
        #expect(later.immutable.isEmpty, "at its date the lock is over")
        #expect(later.removed.map(\.point.id) == ["d7", "d6", "d5", "d4", "d3", "d2", "d1"])
    }
}
