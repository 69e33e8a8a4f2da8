import Foundation
import XCTest

/// The CLI as scripts see it: stable JSON, exit codes, one clear line on stderr, and nothing
/// changed by a command that fails.
final class CommandLineTests: XCTestCase {
    var lab: Lab!

    override func setUpWithError() throws { lab = try Lab() }
    override func tearDown() { lab?.cleanup() }

    private func vbackup(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runTool(vbackupBinary, arguments + ["--store", lab.storePath.path], environment: ["VBACKUP_CACHE": lab.cachePath.path])
    }

    private func storeListing() throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: lab.storePath.path).sorted()
    }

    func testBackupPointsAndRestoreSpeakJSON() throws {
        let vm = try lab.domain()
        try vm.write("vda", offset: 0, length: .mib, pattern: 0x33)
        let backup = try vbackup(["backup", vm.domain.name, "--json"])
        XCTAssertEqual(backup.status, 0, backup.err)
        let reports = try JSONSerialization.jsonObject(with: Data(backup.out.utf8)) as! [[String: Any]]
        XCTAssertEqual(reports.first?["ok"] as? Bool, true)
        let points = try vbackup(["points", vm.domain.name, "--json"])
        let list = try JSONSerialization.jsonObject(with: Data(points.out.utf8)) as! [[String: Any]]
        XCTAssertEqual(list.count, 1)
        XCTAssertEqual(list[0]["vm"] as? String, vm.domain.name)
        XCTAssertEqual(list[0]["kind"] as? String, "full")
        let listed = try runTool(vbackupBinary, ["vms", "--json"])
        XCTAssertTrue(listed.out.contains(vm.domain.name))
        let target = lab.root.appendingPathComponent("cli-restore").path
        let restore = try vbackup(["restore", "vm", vm.domain.name, "--to", target, "--json"])
        XCTAssertEqual(restore.status, 0, restore.err)
        XCTAssertTrue(FileManager.default.fileExists(atPath: target + "/\(vm.domain.name)-vda.qcow2"))
    }

    func testBadInputFailsWithOneClearLineAndChangesNothing() throws {
        let vm = try lab.domain()
        XCTAssertEqual(try vbackup(["backup", vm.domain.name]).status, 0)
        let before = try storeListing()

        let unknown = try vbackup(["backup", "no-such-vm-\(UUID().uuidString.prefix(6))"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(unknown.err.contains("no VM named"), unknown.err)
        XCTAssertEqual(unknown.err.split(separator: "\n").count, 1)

        let badStore = try runTool(vbackupBinary, ["points", "--store", "/nonexistent/vbackup/store"])
        XCTAssertNotEqual(badStore.status, 0)
        XCTAssertEqual(badStore.err.split(separator: "\n").count, 1, badStore.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/nonexistent/vbackup/store"))

        let missingPoint = try vbackup(["restore", "vm", vm.domain.name, "--point", "20200101T000000Z-000000", "--to", lab.root.path + "/r"])
        XCTAssertEqual(missingPoint.status, 1)
        XCTAssertTrue(missingPoint.err.contains("20200101T000000Z-000000"), missingPoint.err)

        let occupied = lab.root.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: occupied, withIntermediateDirectories: true)
        let existing = occupied.appendingPathComponent("\(vm.domain.name)-vda.qcow2")
        try Data("keep me".utf8).write(to: existing)
        let clash = try vbackup(["restore", "vm", vm.domain.name, "--to", occupied.path])
        XCTAssertEqual(clash.status, 1)
        XCTAssertTrue(clash.err.contains("already exists"), clash.err)
        XCTAssertEqual(try Data(contentsOf: existing), Data("keep me".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: occupied.path), [existing.lastPathComponent])

        let usage = try vbackup(["backup"])
        XCTAssertEqual(usage.status, 64)
        XCTAssertEqual(try storeListing(), before, "failed commands left the store as it was")
    }
}
