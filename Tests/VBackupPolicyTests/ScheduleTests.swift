import Foundation
import Testing
import VBackupPolicy

/// Schedules: jitter per VM, defaults, and finding a run missed while the agent was down.
@Suite("Schedules")
struct ScheduleTests {
    static let uuids = (0..<1_000).map { String(format: "6f1c2d3e-0000-4000-8000-%012d", $0) }

    @Test("jitter is the same for a VM on every call and every run, and lies in [0, jitter)")
    func jitterIsDeterministic() throws {
        let nightly = try schedule("*-*-* 01:00", in: paris, window: 4 * 3600, jitter: 20 * 60)
        let offsets = Self.uuids.map { nightly.jitterOffset(vmUUID: $0) }
        #expect(offsets == Self.uuids.map { nightly.jitterOffset(vmUUID: $0) })
        #expect(offsets.allSatisfy { $0 >= 0 && $0 < 20 * 60 })
        // Pinned (FNV-1a then SplitMix64 of "test\0" + "0\0" + UUID, recomputed independently
        // in Python): a process-seeded hash such as Swift's hashValue would change it every run.
        #expect(nightly.jitterOffset(vmUUID: Self.uuids[0]) == 1124.259)
        #expect(nightly.jitterOffset(vmUUID: Self.uuids[0].uppercased()) == 1124.259, "UUIDs compare without case")
    }

    @Test("jitter spreads VMs over the whole range, differently per policy and per schedule")
    func jitterSpreads() throws {
        let first = try schedule("*-*-* 01:00", in: utc, jitter: 600)
        let offsets = Self.uuids.map { first.jitterOffset(vmUUID: $0) }
        let buckets = Dictionary(grouping: offsets) { Int($0 / 60) }.mapValues(\.count)
        #expect(buckets.count == 10 && buckets.values.allSatisfy { (60...140).contains($0) },
                "about 100 of 1,000 VMs per minute of a 10-minute jitter: \(buckets.sorted { $0.key < $1.key })")
        var second = first
        second.index = 1
        var other = first
        other.policyName = "other"
        let uuid = Self.uuids[7]
        #expect(Set([first, second, other].map { $0.jitterOffset(vmUUID: uuid) }).count == 3)
        #expect(first.start(fire: at("2025-06-02T01:00:00Z"), vmUUID: uuid) ==
                at("2025-06-02T01:00:00Z").addingTimeInterval(first.jitterOffset(vmUUID: uuid)))
    }

    @Test("jitter defaults to a quarter of the window, at most 30 minutes; zero jitter starts on time")
    func jitterDefaults() throws {
        #expect(try schedule("daily", in: utc, window: 3600).jitter == 15 * 60)
        #expect(try schedule("daily", in: utc, window: 4 * 3600).jitter == 30 * 60)
        #expect(try schedule("daily", in: utc).window == 6 * 3600)
        #expect(try schedule("daily", in: utc, jitter: 0).jitterOffset(vmUUID: Self.uuids[0]) == 0)
        let parsed = try policy("schedule:\n  - calendar: daily\n    window: 1h\n").schedules[0]
        #expect(parsed.jitter == 15 * 60 && parsed.policyName == "test" && parsed.index == 0)
    }

    @Test("the latest fire time whose window is still open is found; a closed window is not")
    func missedRun() throws {
        let nightly = try schedule("*-*-* 01:00", in: paris, window: 4 * 3600)
        #expect(nightly.occurrence(atOrBefore: at("2025-06-02T03:00:00+02:00")) == at("2025-06-02T01:00:00+02:00"))
        #expect(nightly.occurrence(atOrBefore: at("2025-06-02T01:00:00+02:00")) == at("2025-06-02T01:00:00+02:00"))
        #expect(nightly.occurrence(atOrBefore: at("2025-06-02T04:59:59+02:00")) == at("2025-06-02T01:00:00+02:00"))
        #expect(nightly.occurrence(atOrBefore: at("2025-06-02T05:00:00+02:00")) == nil, "the window closed at 05:00")
        #expect(nightly.occurrence(atOrBefore: at("2025-06-02T00:59:59+02:00")) == nil)
        let quarterly = try schedule("*:0/15", in: utc)
        #expect(quarterly.occurrence(atOrBefore: at("2025-06-02T10:07:30Z")) == at("2025-06-02T10:00:00Z"))
        let seconds = try schedule("*:*:0/20", in: utc)
        #expect(seconds.occurrence(atOrBefore: at("2025-06-02T10:00:39Z")) == at("2025-06-02T10:00:20Z"))
        let skipped = try schedule("*-*-* 02:30", in: paris, window: 3600)
        #expect(skipped.occurrence(atOrBefore: at("2025-03-30T03:10:00+02:00")) == at("2025-03-30T03:00:00+02:00"),
                "the run a DST gap moved to 03:00 is found too")
    }

    @Test("fireTimes lists the next fire times and stops when the calendar runs out")
    func fireTimes() throws {
        let once = try schedule("2025-12-24 18:00", in: utc)
        #expect(once.fireTimes(after: at("2025-01-01T00:00:00Z"), count: 3) == [at("2025-12-24T18:00:00Z")])
        #expect(once.next(after: at("2025-12-24T18:00:00Z")) == nil)
    }
}
