import BackupEngine
import Foundation
import VBackupModel
import XCTest

/// Backups that heal themselves: a killed QEMU, a killed vbackup, a shut-off VM.
final class RecoveryTests: XCTestCase {
    var lab: Lab!

    override func setUpWithError() throws { lab = try Lab() }
    override func tearDown() { lab?.cleanup() }

    func testAfterQEMUIsKilledTheNextBackupReadsInFullAndSaysWhy() throws {
        let vm = try lab.domain()
        try vm.write("vda", offset: 0, length: 4 * .mib, pattern: 0x61)
        _ = try lab.backup(vm)
        try vm.write("vda", offset: 8 * .mib, length: .mib, pattern: 0x62)
        _ = try lab.backup(vm)
        let pid = try String(contentsOfFile: "/run/libvirt/qemu/\(vm.domain.name).pid", encoding: .utf8)
        XCTAssertEqual(kill(pid_t(pid.trimmingCharacters(in: .whitespacesAndNewlines))!, SIGKILL), 0)
        try waitUntil { if case .shutoff = try vm.domain.runState() { return true } else { return false } }
        try vm.domain.start()
        try vm.write("vda", offset: 12 * .mib, length: .mib, pattern: 0x63)
        let (point, references) = try lab.backupWithReference(vm, tag: "after-kill")
        XCTAssertEqual(point.disks[0].mode, .full)
        let reason = try XCTUnwrap(point.disks[0].fullReason)
        XCTAssertTrue(reason.contains("checkpoint"), "reason names the broken checkpoint: \(reason)")
        try lab.assertRestores(point, equal: references)
        // And the chain is healthy again.
        try vm.write("vda", offset: 20 * .mib, length: .mib, pattern: 0x64)
        let (next, nextReferences) = try lab.backupWithReference(vm, tag: "healed")
        XCTAssertEqual(next.disks[0].mode, .incremental)
        try lab.assertRestores(next, equal: nextReferences)
    }

    func testAShutOffVMBacksUpIncrementallyFromItsPersistentBitmap() throws {
        let vm = try lab.domain()
        try vm.write("vda", offset: .mib, length: 2 * .mib, pattern: 0x71)
        _ = try lab.backup(vm)
        try vm.write("vda", offset: 16 * .mib, length: .mib, pattern: 0x72)
        try vm.domain.destroy()   // SIGTERM: QEMU closes the image cleanly and keeps the bitmaps
        let (offline, offlineReferences) = try lab.backupWithReference(vm, tag: "off1")
        XCTAssertEqual(offline.consistency, .shutoff)
        XCTAssertEqual(offline.disks[0].mode, .incremental)
        try lab.assertRestores(offline, equal: offlineReferences)
        // Writes made while the VM is off are recorded by the enabled bitmap too.
        let image = try XCTUnwrap(try vm.diskPaths()["vda"])
        let write = try runTool("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0x73 24M 64k", image])
        XCTAssertEqual(write.status, 0, write.err)
        let (second, secondReferences) = try lab.backupWithReference(vm, tag: "off2")
        XCTAssertEqual(second.disks[0].mode, .incremental)
        XCTAssertLessThanOrEqual(second.disks[0].bytesRead, 2 * .mib)
        try lab.assertRestores(second, equal: secondReferences)
    }

    func testAShutOffVMWithoutHistoryBacksUpInFull() throws {
        let vm = try lab.domain(start: false)
        let image = try XCTUnwrap(try vm.diskPaths()["vda"])
        XCTAssertEqual(try runTool("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0x7A 5M 3M", image]).status, 0)
        let (point, references) = try lab.backupWithReference(vm, tag: "cold")
        XCTAssertEqual(point.disks[0].mode, .full)
        XCTAssertEqual(point.disks[0].bytesRead, 3 * .mib)
        try lab.assertRestores(point, equal: references)
    }

    func testAKilledBackupLeavesAStoreWhoseEveryPointStillRestores() throws {
        let vm = try lab.domain([.init(target: "vda", sizeMiB: 256)])
        for index in 0..<6 { try vm.write("vda", offset: UInt64(index) * 40 * .mib, length: 24 * .mib, pattern: UInt8(0x80 + index)) }
        let (first, firstReferences) = try lab.backupWithReference(vm, tag: "before-kills")
        let environment = ["VBACKUP_CACHE": lab.cachePath.path]
        for attempt in 0..<3 {
            try vm.write("vda", offset: UInt64(attempt) * 50 * .mib, length: 8 * .mib, pattern: UInt8(0x90 + attempt))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: vbackupBinary)
            process.arguments = ["backup", vm.domain.name, "--full", "--store", lab.storePath.path]
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(useconds_t(150_000 + attempt * 250_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try lab.store.refresh()
        try lab.assertRestores(first, equal: firstReferences)
        try vm.write("vda", offset: 100 * .mib, length: .mib, pattern: 0xEE)
        let (next, nextReferences) = try lab.backupWithReference(vm, tag: "after-kills")
        try lab.assertRestores(next, equal: nextReferences)
        XCTAssertTrue(try vm.domain.checkpoints().allSatisfy { $0.name == next.disks[0].checkpoint })
    }

    private func waitUntil(_ condition: () throws -> Bool) throws {
        for _ in 0..<100 {
            if try condition() { return }
            usleep(100_000)
        }
        XCTFail("condition not met within 10 s")
    }
}
