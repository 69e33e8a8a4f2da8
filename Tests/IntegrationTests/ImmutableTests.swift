import BackupEngine
import Foundation
import XCTest

/// Immutable points through the real `vbackup` binary, a real VM and the lab RGW: a bucket made
/// with Object Lock, backups with `--immutable-for`, and what prune, `points forget` and gc say
/// before and after the date.
final class ImmutableTests: XCTestCase {
    var lab: Lab!
    var bucket: LockedBucket!

    override func setUpWithError() throws {
        lab = try Lab()
        bucket = try LockedBucket()
    }

    override func tearDown() {
        bucket?.remove()
        lab?.cleanup()
    }

    private func vbackup(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runTool(vbackupBinary, arguments + ["--store", bucket.url], environment: bucket.environment.merging([
            "VBACKUP_CACHE": lab.cachePath.path,
            // Packs outlive their point by half its period, without the one-day minimum, so
            // the test sees them expire too.
            "VBACKUP_IMMUTABLE_SLACK_SECONDS": "0",
        ]) { $1 })
    }

    func testImmutablePointsRefuseForgetAndGCReportsWhatTheLockRetains() throws {
        let vm = try lab.domain([.init(target: "vda", sizeMiB: 32)])
        try vm.write("vda", offset: 0, length: 20 * .mib, from: try lab.randomFile(mib: 20))

        let initialized = try vbackup(["store", "init", "--encryption", "none", "--object-lock"])
        XCTAssertEqual(initialized.status, 0, initialized.err)
        XCTAssertTrue(initialized.out.contains("object lock: on"), initialized.out)

        // Two immutable points. The first's packs hold 6 s past its 12 s; the second, 24 s long,
        // reuses them and must extend them.
        let first = try immutableBackup(vm.domain.name, for: 12)
        try vm.write("vda", offset: 24 * .mib, length: .mib, from: try lab.randomFile(mib: 1))
        let second = try immutableBackup(vm.domain.name, for: 24)
        XCTAssertEqual(first.retentionRequests, 0, "nothing older to extend")
        XCTAssertGreaterThan(second.retentionRequests, 0, "the first point's packs, extended to the second's date")
        let listed = try jsonValue(try vbackup(["points", "--json"]).out) as! [[String: Any]]
        XCTAssertEqual(listed.compactMap { $0["immutableUntil"] as? String }.count, 2, "\(listed)")
        let table = try vbackup(["points"])
        XCTAssertTrue(table.out.contains("IMMUTABLE") && table.out.contains("until "), table.out)

        // Before the date: forget refuses in one line; prune keeps the older point and says why.
        let refused = try vbackup(["points", "forget", first.id])
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.err.split(separator: "\n").count, 1, refused.err)
        XCTAssertTrue(refused.err.hasPrefix("vbackup: restore point \(first.id) is immutable until "), refused.err)
        XCTAssertTrue(refused.err.contains("no one can delete it before then"), refused.err)
        let prune = try vbackup(["prune", "--keep-last", "1", "--json"])
        XCTAssertEqual(prune.status, 0, prune.err)
        let plan = try jsonValue(prune.out) as! [String: Any]
        XCTAssertEqual(plan["removedCount"] as? Int, 0)
        let kept = ((plan["vms"] as! [[String: Any]])[0]["immutable"] as! [[String: Any]])
        XCTAssertEqual(kept.map { $0["id"] as? String }, [first.id])
        XCTAssertNotNil(kept[0]["immutableUntil"] as? String)
        let pruneTable = try vbackup(["prune", "--keep-last", "1", "--dry-run"])
        XCTAssertTrue(pruneTable.out.contains("IMMUTABLE") && pruneTable.out.contains("kept: immutable until"), pruneTable.out)

        // After the points' date they go; their packs are still retained for the slack, and gc
        // leaves them, says until when, and never fails.
        wait(until: second.until.addingTimeInterval(1))
        for point in [first, second] {
            let forget = try vbackup(["points", "forget", point.id])
            XCTAssertEqual(forget.status, 0, forget.err)
        }
        let gc = try vbackup(["gc", "--json"])
        XCTAssertEqual(gc.status, 0, gc.err)
        let report = try jsonValue(gc.out) as! [String: Any]
        XCTAssertGreaterThan(report["packsRetained"] as? Int ?? 0, 0, gc.out)
        let retainedUntil = try XCTUnwrap((report["retainedUntil"] as? String).flatMap(parseDate), gc.out)
        XCTAssertGreaterThan(retainedUntil, second.until)
        let gcText = try vbackup(["gc", "--dry-run"])
        XCTAssertTrue(gcText.out.contains("stay under the storage's object lock until"), gcText.out)

        // Once that passes too, gc frees every pack.
        wait(until: retainedUntil.addingTimeInterval(1))
        let last = try jsonValue(try vbackup(["gc", "--json"]).out) as! [String: Any]
        XCTAssertEqual(last["packsRetained"] as? Int, 0, "\(last)")
        XCTAssertEqual(last["packs"] as? Int, 0, "\(last)")
        XCTAssertGreaterThan(last["packsDeleted"] as? Int ?? 0, 0, "\(last)")
    }

    /// `vbackup copy --immutable-for` into the Object Lock bucket: the report and the target's
    /// point list carry the date, `points forget` in the target refuses until then (and works
    /// after), and the copy restores bit-exact.
    func testAnOffSiteCopyMadeImmutableRefusesForgetUntilItsDate() throws {
        let vm = try lab.domain([.init(target: "vda", sizeMiB: 16)])
        try vm.write("vda", offset: 0, length: 4 * .mib, from: try lab.randomFile(mib: 4))
        let (point, references) = try lab.backupWithReference(vm, tag: "offsite")
        XCTAssertEqual(try vbackup(["store", "init", "--encryption", "none", "--object-lock"]).status, 0)

        let started = Date()
        let copy = try vbackup(["copy", "--from", lab.storePath.path, "--to", bucket.url, "--immutable-for", "15s", "--json"])
        XCTAssertEqual(copy.status, 0, copy.err)
        let copied = try XCTUnwrap((try jsonValue(copy.out) as? [String: Any])?["copied"] as? [[String: Any]], copy.out)
        XCTAssertEqual(copied.map { $0["id"] as? String }, [point.id])
        let until = try XCTUnwrap((copied[0]["immutableUntil"] as? String).flatMap(parseDate), copy.out)
        XCTAssertGreaterThanOrEqual(until, started.addingTimeInterval(15))
        XCTAssertLessThanOrEqual(until, Date().addingTimeInterval(16))
        let listed = try jsonValue(try vbackup(["points", "--json"]).out) as! [[String: Any]]
        XCTAssertEqual(listed.compactMap { ($0["immutableUntil"] as? String).flatMap(parseDate) }, [until])

        let refused = try vbackup(["points", "forget", point.id])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.err.hasPrefix("vbackup: restore point \(point.id) is immutable until "), refused.err)
        let folder = lab.root.appendingPathComponent("restored-offsite").path
        let restore = try vbackup(["restore", "vm", vm.domain.name, "--point", point.id, "--to", folder])
        XCTAssertEqual(restore.status, 0, restore.err)
        for (disk, reference) in references {
            XCTAssertTrue(try LabDomain.sameContent(reference, "\(folder)/\(vm.domain.name)-\(disk).qcow2"), "\(disk) restores bit-exact")
        }

        wait(until: until.addingTimeInterval(1))
        let forget = try vbackup(["points", "forget", point.id])
        XCTAssertEqual(forget.status, 0, forget.err)
    }

    private struct Backup {
        var id: String
        var until: Date
        var retentionRequests: Int
    }

    private func immutableBackup(_ vm: String, for seconds: Int) throws -> Backup {
        let result = try vbackup(["backup", vm, "--immutable-for", "\(seconds)s", "--json"])
        XCTAssertEqual(result.status, 0, result.err)
        let report = try XCTUnwrap((try jsonValue(result.out) as? [[String: Any]])?.first)
        let point = try XCTUnwrap(report["point"] as? [String: Any], result.out)
        let until = try XCTUnwrap((point["immutableUntil"] as? String).flatMap(parseDate), result.out)
        XCTAssertEqual(until.timeIntervalSince(try XCTUnwrap((point["createdAt"] as? String).flatMap(parseDate))), Double(seconds), accuracy: 1)
        let requests = try XCTUnwrap(report["retentionRequests"] as? Int, result.out)
        return Backup(id: try XCTUnwrap(point["id"] as? String), until: until, retentionRequests: requests)
    }

    private func parseDate(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }

    private func wait(until date: Date) {
        let seconds = date.timeIntervalSinceNow
        if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
    }
}
