import Foundation
import VBackupModel
import XCTest

/// `vbackup points` shows each point's newest drill verdict, from the records the store keeps
/// beside the point (on a store of synthetic points: no libvirt needed).
final class PointsDrillTests: XCTestCase {
    var fixture: SyntheticStore!
    let vm = SyntheticStore.VM(name: "drilled", uuid: "0d7f0000-0000-4000-8000-00000000000d")

    override func setUpWithError() throws { fixture = try SyntheticStore() }
    override func tearDown() { fixture?.cleanup() }

    private func record(_ point: PointManifest, _ drillID: String, outcome: DrillOutcome, at: Date, healthy: Double?,
                        failure: String? = nil) throws {
        let result = DrillVMResult(
            vm: point.vmName, vmUUID: point.vmUUID, pointID: point.id, pointCreatedAt: point.createdAt,
            sandboxName: "vbdrill-x-\(point.vmName)", outcome: outcome, failure: failure, failedStep: failure == nil ? nil : "checks",
            diskMode: "overlay", timings: DrillTimings(disksReady: 0.2, running: 1, healthy: healthy, teardown: 0.5),
            checks: [], consoleTail: [], storeErrors: [], cleanedUp: true)
        try fixture.store.recordDrill(DrillRecord(drillID: drillID, host: "hv1", recordedAt: at, result: result))
    }

    func testPointsShowTheirNewestDrillInTextAndJSON() throws {
        let day: TimeInterval = 86_400
        let start = Date(timeIntervalSince1970: 1_750_000_000)
        let failing = try fixture.addPoint(vm, at: start, seed: 1)
        let passing = try fixture.addPoint(vm, at: start + day, seed: 2)
        let never = try fixture.addPoint(vm, at: start + 2 * day, seed: 3)
        try record(failing, "drill-1", outcome: .passed, at: start + 3 * day, healthy: 9)
        try record(failing, "drill-2", outcome: .failed, at: start + 4 * day, healthy: nil, failure: "Kernel panic")
        try record(passing, "drill-3", outcome: .passed, at: start + 4 * day, healthy: 7.5)

        let json = try fixture.vbackup(["points", "--json"])
        XCTAssertEqual(json.status, 0, json.err)
        let points = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [[String: Any]])
        let byID = Dictionary(uniqueKeysWithValues: points.map { ($0["id"] as? String ?? "", $0) })
        let newestOfFailing = try XCTUnwrap(byID[failing.id]?["lastDrill"] as? [String: Any])
        XCTAssertEqual(newestOfFailing["drillID"] as? String, "drill-2", "the newer of its two drills")
        XCTAssertEqual(newestOfFailing["outcome"] as? String, "failed")
        XCTAssertEqual(newestOfFailing["failure"] as? String, "Kernel panic")
        XCTAssertEqual(newestOfFailing["failedStep"] as? String, "checks")
        XCTAssertEqual(newestOfFailing["host"] as? String, "hv1")
        let passed = try XCTUnwrap(byID[passing.id]?["lastDrill"] as? [String: Any])
        XCTAssertEqual(passed["outcome"] as? String, "passed")
        XCTAssertEqual(passed["rtoSeconds"] as? Double, 7.5)
        XCTAssertNotNil(passed["recordedAt"] as? String)
        XCTAssertTrue(byID[never.id]?["lastDrill"] is NSNull, "never drilled: null, the key present")

        let text = try fixture.vbackup(["points"])
        XCTAssertEqual(text.status, 0, text.err)
        let lines = text.out.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasSuffix("DRILL") == true, lines.first ?? "")
        XCTAssertTrue(lines.first { $0.hasPrefix(failing.id) }?.contains("FAILED ") == true, text.out)
        XCTAssertTrue(lines.first { $0.hasPrefix(passing.id) }?.contains("passed ") == true, text.out)
        let neverLine = try XCTUnwrap(lines.first { $0.hasPrefix(never.id) })
        XCTAssertFalse(neverLine.contains("passed") || neverLine.contains("FAILED"), neverLine)
    }
}
