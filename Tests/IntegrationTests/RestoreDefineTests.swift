import BackupEngine
import Foundation
import LibvirtClient
import VBackupModel
import XCTest

/// A VM redefined from the store alone runs beside the original without touching it.
final class RestoreDefineTests: XCTestCase {
    var lab: Lab!
    var restoredName = "vbt-restored-\(UUID().uuidString.prefix(6).lowercased())"

    override func setUpWithError() throws { lab = try Lab() }
    override func tearDown() {
        if let domain = try? lab?.connection.lookupDomain(restoredName) {
            try? domain.destroy()
            try? domain.undefine(checkpointsMetadata: true, nvram: true)
        }
        lab?.cleanup()
    }

    func testARestoredDomainIsDefinedAndStartedWithoutClashingWithTheOriginal() throws {
        let vm = try lab.domain()
        try vm.write("vda", offset: 0, length: .mib, pattern: 0x19)
        let (point, references) = try lab.backupWithReference(vm, tag: "define")
        var options = RestoreOptions()
        options.directory = lab.root.appendingPathComponent("defined")
        options.newName = restoredName
        options.define = true
        options.start = true
        let result = try RestoreRunner(store: lab.store, connection: lab.connection, options: options).restore(vm: vm.domain.name)
        XCTAssertEqual(result.definedAs, restoredName)
        XCTAssertTrue(result.started)
        let restored = try lab.connection.lookupDomain(restoredName)
        XCTAssertEqual(try restored.runState(), .running)
        XCTAssertNotEqual(restored.uuid, vm.domain.uuid)
        let xml = try restored.xml()
        XCTAssertTrue(xml.contains(result.disks[0].path))
        XCTAssertFalse(xml.contains(try vm.diskPaths()["vda"]!), "the restored VM never opens the original's disk")
        XCTAssertEqual(try vm.domain.runState(), .running, "the original keeps running")
        try restored.suspend()
        XCTAssertTrue(try LabDomain.sameContent(references["vda"]!, result.disks[0].path))
        XCTAssertEqual(point.vmUUID, vm.domain.uuid)

        // A second restore under the same name is refused before anything is written.
        XCTAssertThrowsError(try RestoreRunner(store: lab.store, connection: lab.connection, options: options).restore(vm: vm.domain.name)) {
            XCTAssertTrue("\($0)".contains("already exists"), "\($0)")
        }
    }
}
