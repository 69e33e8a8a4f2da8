import BackupEngine
import Foundation
import VBackupModel
import XCTest

/// Disks of different kinds, and data shared between VMs.
final class DiskLayoutTests: XCTestCase {
    var lab: Lab!

    override func setUpWithError() throws { lab = try Lab() }
    override func tearDown() { lab?.cleanup() }

    func testARawDiskIsReadInFullWhileTheQcow2DiskBesideItIsIncremental() throws {
        let vm = try lab.domain([.init(target: "vda", sizeMiB: 64), .init(target: "vdb", sizeMiB: 32, format: "raw")])
        try vm.write("vda", offset: 0, length: 2 * .mib, pattern: 0x41)
        try vm.write("vdb", offset: 4 * .mib, length: 2 * .mib, pattern: 0x42)
        _ = try lab.backup(vm)
        try vm.write("vda", offset: 30 * .mib, length: 64 * 1024, pattern: 0x43)
        try vm.write("vdb", offset: 20 * .mib, length: 64 * 1024, pattern: 0x44)
        let (point, references) = try lab.backupWithReference(vm, tag: "mixed")
        let byTarget = Dictionary(uniqueKeysWithValues: point.disks.map { ($0.target, $0) })
        XCTAssertEqual(byTarget["vda"]?.mode, .incremental)
        XCTAssertEqual(byTarget["vdb"]?.mode, .full)
        XCTAssertNil(byTarget["vdb"]?.checkpoint, "a raw disk has no bitmap to continue from")
        try lab.assertRestores(point, equal: references)
        let vms = try Discovery(connection: lab.connection).describe(vm.domain.name)
        XCTAssertEqual(vms.disks.map(\.capability), [.incremental, .fullOnly])
    }

    func testAClonedVMDeduplicatesAgainstItsOrigin() throws {
        let origin = try lab.domain()
        for index in 0..<4 { try origin.write("vda", offset: UInt64(index) * 12 * .mib, length: 8 * .mib, pattern: UInt8(0x50 + index)) }
        _ = try lab.backup(origin)
        try origin.domain.destroy()
        let clone = try lab.domain(start: false)
        try LabDomain.copyImage(try origin.diskPaths()["vda"]!, to: try clone.diskPaths()["vda"]!)
        let before = try lab.storeBytes()
        let point = try lab.backup(clone)
        let growth = try lab.storeBytes() - before
        XCTAssertEqual(point.disks[0].dataBytes, 32 * .mib)
        XCTAssertEqual(point.disks[0].chunksNew, 0, "every chunk of the clone is already in the store")
        XCTAssertLessThan(growth, 64 * 1024, "the store grows by metadata only, not by the clone's 32 MiB")
    }

    func testAnotherToolsCheckpointIsNeverDeleted() throws {
        let vm = try lab.domain()
        _ = try lab.backup(vm)
        let foreign = "<domaincheckpoint><name>othertool.0</name></domaincheckpoint>"
        let file = lab.root.appendingPathComponent("foreign.xml")
        try foreign.write(to: file, atomically: true, encoding: .utf8)
        let created = try runTool("/usr/bin/virsh", ["-c", "qemu:///system", "checkpoint-create", vm.domain.name, file.path])
        XCTAssertEqual(created.status, 0, created.err)
        _ = try lab.backup(vm)
        _ = try lab.backup(vm)
        XCTAssertTrue(try vm.domain.checkpoints().map(\.name).contains("othertool.0"))
    }
}
