import Foundation
import XCTest

/// `vbackup prune` killed with SIGKILL at random moments leaves a store whose every point reads
/// back bit-exact, and a rerun finishes the job.
final class PruneCrashTests: XCTestCase {
    let vms = [SyntheticStore.VM(name: "crash-a", uuid: "0c3a0000-0000-4000-8000-00000000000c"),
               SyntheticStore.VM(name: "crash-b", uuid: "0d4b0000-0000-4000-8000-00000000000d")]
    let rules = ["--keep-last", "2", "--keep-daily", "3"]

    /// 150 points, alternating VMs, one every 2 hours.
    private func storeOf150Points() throws -> SyntheticStore {
        let fixture = try SyntheticStore()
        addTeardownBlock { fixture.cleanup() }
        for index in 0..<150 {
            try fixture.addPoint(vms[index % 2], at: utcDate(day: 0, hour: 2 * index), seed: index)
        }
        return fixture
    }

    /// The ids `prune` keeps, from a dry run (which writes nothing).
    private func plannedKeep(_ fixture: SyntheticStore) throws -> Set<String> {
        let dry = try fixture.vbackup(["prune", "--dry-run", "--json"] + rules)
        XCTAssertEqual(dry.status, 0, dry.err)
        let report = try jsonValue(dry.out) as! [String: Any]
        return (report["vms"] as! [[String: Any]]).reduce(into: Set<String>()) { kept, vm in
            for list in ["kept", "protected"] {
                kept.formUnion(((vm[list] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
            }
        }
    }

    func testSIGKILLAtRandomMomentsLeavesAConsistentStore() throws {
        // One undisturbed run on its own store, to learn how long a prune takes here.
        let reference = try storeOf150Points()
        let expected = try plannedKeep(reference).count
        let started = Date()
        let full = try reference.vbackup(["prune"] + rules)
        let runtime = Date().timeIntervalSince(started)
        XCTAssertEqual(full.status, 0)
        XCTAssertEqual(try reference.verifyEveryPoint().count, expected)

        // Kill delays are random in [0, window]. A run that finished before its kill shrinks the
        // window to that delay, so later kills land inside runs on a fast or idle machine too.
        var window = runtime
        var interruptedMidway = 0
        for attempt in 0..<12 {
            let fixture = try storeOf150Points()
            let keep = try plannedKeep(fixture)
            XCTAssertEqual(keep.count, expected)
            let delay = Double.random(in: 0...window)
            let killed = try fixture.runAndKill(["prune"] + rules, after: delay)
            if !killed { window = max(delay, 0.01) }

            let listed = try fixture.vbackup(["points", "--json"])
            XCTAssertEqual(listed.status, 0, "attempt \(attempt) (killed after \(delay) s): \(listed.err)")
            let survivors = try fixture.verifyEveryPoint()
            XCTAssertTrue(keep.isSubset(of: survivors), "attempt \(attempt): a kept point vanished")
            XCTAssertEqual(Set(((try jsonValue(listed.out)) as! [[String: Any]]).compactMap { $0["id"] as? String }), survivors,
                           "attempt \(attempt): the killed host's catalog agrees with the store")
            if killed && survivors.count > keep.count && survivors.count < 150 { interruptedMidway += 1 }

            let rerun = try fixture.vbackup(["prune", "--json"] + rules)
            XCTAssertEqual(rerun.status, 0, "attempt \(attempt): \(rerun.err)")
            XCTAssertEqual(try fixture.verifyEveryPoint(), keep, "attempt \(attempt): the rerun finished the job")
            print("prune crash attempt \(attempt): \(killed ? "killed" : "finished before the kill") after \(String(format: "%.3f", delay)) s, \(survivors.count) of 150 points left (\(keep.count) kept)")
        }
        XCTAssertGreaterThan(interruptedMidway, 0, "at least one kill landed while points were being removed")
    }
}
