import BackupEngine
import Foundation
import VBackupModel
import XCTest

/// Ctrl-C and a redefined domain: the job is always ended, and the chain heals.
final class InterruptionTests: XCTestCase {
    var lab: Lab!

    override func setUpWithError() throws { lab = try Lab() }
    override func tearDown() { lab?.cleanup() }

    func testCtrlCEndsTheLibvirtJobAndCommitsNothing() throws {
        let vm = try lab.domain([.init(target: "vda", sizeMiB: 256)])
        for index in 0..<6 { try vm.write("vda", offset: UInt64(index) * 40 * .mib, length: 24 * .mib, pattern: UInt8(0xA0 + index)) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: vbackupBinary)
        process.arguments = ["backup", vm.domain.name, "--store", lab.storePath.path]
        process.environment = ProcessInfo.processInfo.environment.merging(["VBACKUP_CACHE": lab.cachePath.path]) { $1 }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        usleep(250_000)
        kill(process.processIdentifier, SIGINT)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1, message)
        XCTAssertTrue(message.contains("cancelled"), message)
        try lab.store.refresh()
        XCTAssertEqual(try lab.store.listPoints(vm: vm.domain.name).count, 0, "nothing half-done is visible")
        XCTAssertFalse(try vm.domain.hasActiveJob(), "the pull-mode job was ended")
        XCTAssertTrue(try vm.domain.checkpoints().isEmpty, "the interrupted run's checkpoint was removed")
        let (point, references) = try lab.backupWithReference(vm, tag: "after-ctrl-c")
        try lab.assertRestores(point, equal: references)
    }

    func testARedefinedDomainFallsBackToFullAndSaysWhy() throws {
        let vm = try lab.domain()
        try vm.write("vda", offset: 0, length: .mib, pattern: 0x2B)
        _ = try lab.backup(vm)
        let xml = try vm.domain.xml(inactive: true)
        try vm.domain.destroy()
        try vm.domain.undefine(checkpointsMetadata: true, nvram: false)
        try lab.connection.defineDomain(xml: xml).start()
        try vm.write("vda", offset: 4 * .mib, length: .mib, pattern: 0x2C)
        let (point, references) = try lab.backupWithReference(vm, tag: "redefined")
        XCTAssertEqual(point.disks[0].mode, .full)
        XCTAssertTrue(point.disks[0].fullReason?.contains("no longer exists") == true, point.disks[0].fullReason ?? "nil")
        try lab.assertRestores(point, equal: references)
    }
}
