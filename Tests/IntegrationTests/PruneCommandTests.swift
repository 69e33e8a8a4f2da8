import Foundation
import XCTest

/// `vbackup prune` and `vbackup points` on a store of synthetic points (no libvirt needed).
final class PruneCommandTests: XCTestCase {
    var fixture: SyntheticStore!
    let alpha = SyntheticStore.VM(name: "alpha", uuid: "0a1f0000-0000-4000-8000-00000000000a")
    let beta = SyntheticStore.VM(name: "beta", uuid: "0b2f0000-0000-4000-8000-00000000000b")

    override func setUpWithError() throws { fixture = try SyntheticStore() }
    override func tearDown() { fixture?.cleanup() }

    /// alpha: 6 days x 3 points (06:00, 12:00, 18:00); beta: 12 days x 1 point (09:00). Returns
    /// the ids keep-daily 3 must keep: the 18:00 points of alpha's last 3 days, beta's last 3.
    private func thirtyPoints() throws -> (all: Set<String>, keepDaily3: Set<String>) {
        var all = Set<String>(), keep = Set<String>()
        for day in 0..<6 {
            for hour in [6, 12, 18] {
                let point = try fixture.addPoint(alpha, at: utcDate(day: day, hour: hour), seed: day * 100 + hour)
                all.insert(point.id)
                if day >= 3 && hour == 18 { keep.insert(point.id) }
            }
        }
        for day in 0..<12 {
            let point = try fixture.addPoint(beta, at: utcDate(day: day, hour: 9), seed: 5000 + day)
            all.insert(point.id)
            if day >= 9 { keep.insert(point.id) }
        }
        return (all, keep)
    }

    private func listedPoints() throws -> [[String: Any]] {
        let result = try fixture.vbackup(["points", "--json"])
        XCTAssertEqual(result.status, 0, result.err)
        return try jsonValue(result.out) as! [[String: Any]]
    }

    private func ids(_ list: Any?) -> Set<String> {
        Set(((list as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
    }

    func testDryRunPlansThenPruneRemovesExactlyThePlannedPoints() throws {
        let (all, keep) = try thirtyPoints()
        let before = try fixture.listing()

        let dry = try fixture.vbackup(["prune", "--keep-daily", "3", "--dry-run", "--json"])
        XCTAssertEqual(dry.status, 0, dry.err)
        let plan = try jsonValue(dry.out) as! [String: Any]
        XCTAssertEqual(plan["dryRun"] as? Bool, true)
        XCTAssertEqual(plan["removedCount"] as? Int, 24)
        XCTAssertEqual((plan["rules"] as? [String: Int]) ?? [:], ["keep-daily": 3])
        let vms = plan["vms"] as! [[String: Any]]
        XCTAssertEqual(vms.map { $0["vm"] as? String }, ["alpha", "beta"])
        XCTAssertEqual(vms.map { $0["vmUUID"] as? String }, [alpha.uuid, beta.uuid])
        XCTAssertEqual(vms.reduce(into: Set<String>()) { $0.formUnion(ids($1["kept"])) }, keep)
        XCTAssertEqual(vms.reduce(into: Set<String>()) { $0.formUnion(ids($1["removed"])) }, all.subtracting(keep))
        let firstKept = (vms[0]["kept"] as! [[String: Any]])[0]
        XCTAssertEqual(firstKept["rules"] as? [String], ["daily"])
        XCTAssertNotNil(firstKept["createdAt"] as? String)
        XCTAssertEqual(try fixture.listing(), before, "a dry run writes nothing")
        XCTAssertEqual(Set(try listedPoints().compactMap { $0["id"] as? String }), all)

        let table = try fixture.vbackup(["prune", "--keep-daily", "3", "--dry-run"])
        XCTAssertEqual(table.status, 0, table.err)
        XCTAssertTrue(table.out.contains("ACTION"), table.out)
        XCTAssertTrue(table.out.contains("dry run: would remove 24 of 30 points"), table.out)
        XCTAssertEqual(table.out.components(separatedBy: "REMOVE").count - 1, 24, table.out)

        let real = try fixture.vbackup(["prune", "--keep-daily", "3", "--json"])
        XCTAssertEqual(real.status, 0, real.err)
        let done = try jsonValue(real.out) as! [String: Any]
        XCTAssertEqual(done["dryRun"] as? Bool, false)
        XCTAssertEqual(done["removedCount"] as? Int, 24)
        XCTAssertEqual(Set(try listedPoints().compactMap { $0["id"] as? String }), keep)
        XCTAssertEqual(try fixture.verifyEveryPoint(), keep, "a new host sees the same points, and they read back bit-exact")
        let pointDirectories = try FileManager.default.subpathsOfDirectory(atPath: fixture.storePath.path + "/points")
            .filter { $0.hasSuffix("manifest.json") }
        XCTAssertEqual(pointDirectories.count, 6)

        let again = try fixture.vbackup(["prune", "--keep-daily", "3", "--json"])
        XCTAssertEqual((try jsonValue(again.out) as! [String: Any])["removedCount"] as? Int, 0, "pruning is idempotent")
    }

    func testAProtectedPointSurvivesKeepLast1() throws {
        let points = try (0..<5).map { try fixture.addPoint(alpha, at: utcDate(day: $0, hour: 3), seed: $0) }
        try fixture.addPoint(beta, at: utcDate(day: 0, hour: 3), seed: 99)
        let oldest = points[0].id, newest = points[4].id

        let protect = try fixture.vbackup(["points", "protect", oldest])
        XCTAssertEqual(protect.status, 0, protect.err)
        XCTAssertTrue(protect.out.contains(oldest), protect.out)
        let listed = try listedPoints()
        XCTAssertEqual(listed.filter { $0["protected"] as? Bool == true }.compactMap { $0["id"] as? String }, [oldest])
        XCTAssertEqual(listed.filter { $0["protected"] as? Bool == false }.count, 5)
        let table = try fixture.vbackup(["points", "alpha"])
        XCTAssertTrue(table.out.contains("PROTECTED"), table.out)
        XCTAssertTrue(table.out.split(separator: "\n").contains { $0.hasPrefix(oldest) && $0.hasSuffix("yes") }, table.out)

        let prune = try fixture.vbackup(["prune", "--vm", "alpha", "--keep-last", "1", "--json"])
        XCTAssertEqual(prune.status, 0, prune.err)
        let report = try jsonValue(prune.out) as! [String: Any]
        let vm = (report["vms"] as! [[String: Any]])[0]
        XCTAssertEqual((report["vms"] as! [[String: Any]]).count, 1, "--vm alpha prunes only alpha")
        XCTAssertEqual(ids(vm["kept"]), [newest])
        XCTAssertEqual(ids(vm["protected"]), [oldest])
        XCTAssertEqual(ids(vm["removed"]), Set(points[1...3].map(\.id)))
        XCTAssertEqual(Set(try listedPoints().compactMap { $0["id"] as? String }).count, 3, "alpha's newest and protected, and beta's")

        let unprotect = try fixture.vbackup(["points", "unprotect", oldest])
        XCTAssertEqual(unprotect.status, 0, unprotect.err)
        XCTAssertEqual(try fixture.vbackup(["prune", "--vm", alpha.uuid, "--keep-last", "1"]).status, 0)
        XCTAssertEqual(Set(try listedPoints().compactMap { $0["id"] as? String }).count, 2)
        XCTAssertEqual(try fixture.verifyEveryPoint().count, 2)
    }

    func testPointsListKeepsItsFormsAndProtectRejectsUnknownIDs() throws {
        try fixture.addPoint(alpha, at: utcDate(day: 0, hour: 1), seed: 1)
        try fixture.addPoint(beta, at: utcDate(day: 0, hour: 2), seed: 2)
        for arguments in [["points"], ["points", "list"], ["points", "alpha"], ["points", "list", "alpha"]] {
            let result = try fixture.vbackup(arguments)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.err)")
            XCTAssertTrue(result.out.hasPrefix("ID"), "\(arguments): \(result.out)")
            XCTAssertEqual(result.out.contains("beta"), arguments.count <= 2 && arguments.last != "alpha", "\(arguments)")
        }
        for arguments in [["points", "--json"], ["points", "alpha", "--json"], ["points", "--json", "alpha"]] {
            let result = try fixture.vbackup(arguments)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.err)")
            let list = try jsonValue(result.out) as! [[String: Any]]
            XCTAssertEqual(list.count, arguments.contains("alpha") ? 1 : 2, "\(arguments)")
            XCTAssertEqual(list.first?["protected"] as? Bool, false)
            XCTAssertEqual(list.first?["vm"] as? String, "alpha")
        }
        for verb in ["protect", "unprotect"] {
            let unknown = try fixture.vbackup(["points", verb, "20200101T000000Z-000000"])
            XCTAssertEqual(unknown.status, 1)
            XCTAssertEqual(unknown.err, "vbackup: restore point 20200101T000000Z-000000 not found\n")
        }
    }

    func testBadPruneInputFailsWithOneLineAndChangesNothing() throws {
        _ = try thirtyPoints()
        let before = try fixture.listing()
        let typo = fixture.root.appendingPathComponent("typo.yaml")
        try "name: typo\nretention:\n  keep-dayly: 3\n".write(to: typo, atomically: true, encoding: .utf8)
        let negative = fixture.root.appendingPathComponent("negative.yaml")
        try "name: negative\nretention:\n  keep-last: -2\n".write(to: negative, atomically: true, encoding: .utf8)
        let cases: [([String], Int32, String)] = [
            (["prune"], 1, "no keep options: refusing to prune everything"),
            (["prune", "--keep-last", "0", "--keep-daily", "0"], 1, "no keep options"),
            (["prune", "--policy", typo.path], 1, "policy file \(typo.path):3: retention.keep-dayly: unknown key 'keep-dayly'"),
            (["prune", "--policy", negative.path, "--keep-daily", "1"], 1, "\(negative.path):3: retention.keep-last: must be a non-negative"),
            (["prune", "--policy", "/nonexistent/p.yaml"], 1, "/nonexistent/p.yaml"),
            (["prune", "--vm", "gamma", "--keep-last", "1"], 1, "no points of VM 'gamma' in the store"),
            (["prune", "--keep-last=-1"], 64, "keep-last must be a non-negative integer"),
        ]
        for (arguments, status, message) in cases {
            let result = try fixture.vbackup(arguments)
            XCTAssertEqual(result.status, status, "\(arguments): \(result.err)")
            XCTAssertTrue(result.err.contains(message), "\(arguments): \(result.err)")
            if status == 1 { XCTAssertEqual(result.err.split(separator: "\n").count, 1, "\(arguments): \(result.err)") }
        }
        XCTAssertEqual(try fixture.listing(), before, "failed prunes removed nothing")
        let help = try fixture.vbackup(["prune", "--help"])
        XCTAssertEqual(help.status, 0, help.err)
        XCTAssertTrue(help.out.contains("--keep-daily <n>"), help.out)
    }

    func testPolicyFileSelectsVMsAndFlagsOverrideItsRules() throws {
        _ = try thirtyPoints()
        let policy = fixture.root.appendingPathComponent("beta.yaml")
        try """
            version: 1
            name: beta-only
            select:
              vms: [beta, not-backed-up-yet]
            retention:
              keep-last: 2
              keep-weekly: 0
            """.write(to: policy, atomically: true, encoding: .utf8)
        let result = try fixture.vbackup(["prune", "--policy", policy.path, "--keep-last", "4", "--json"])
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertTrue(result.err.contains("no points of VM 'not-backed-up-yet'"), result.err)
        let report = try jsonValue(result.out) as! [String: Any]
        XCTAssertEqual(report["policy"] as? String, "beta-only")
        XCTAssertEqual((report["rules"] as? [String: Int]) ?? [:], ["keep-last": 4, "keep-weekly": 0])
        XCTAssertEqual((report["vms"] as! [[String: Any]]).map { $0["vm"] as? String }, ["beta"])
        XCTAssertEqual(report["removedCount"] as? Int, 8)
        let left = try listedPoints()
        XCTAssertEqual(left.filter { $0["vm"] as? String == "alpha" }.count, 18, "alpha is outside the policy")
        XCTAssertEqual(left.filter { $0["vm"] as? String == "beta" }.count, 4)
    }
}
