import BackupEngine
import Foundation
import LibvirtClient
@testable import VBackupStore
import XCTest

/// `vbackup restore vm --instant` as a process, on a real libvirtd and QEMU: the VM runs while
/// its disks are still being pulled from the point, keeps what it writes meanwhile, and ends on
/// plain local qcow2 files with no trace of the export; bad input and a double Ctrl-C leave
/// nothing behind.
final class InstantRestoreTests: XCTestCase {
    var lab: Lab!
    let restoredName = "vbt-instant-\(UUID().uuidString.prefix(6).lowercased())"

    override func setUpWithError() throws { lab = try Lab() }

    override func tearDown() {
        if let domain = try? lab?.connection.lookupDomain(restoredName) {
            try? domain.destroy()
            try? domain.undefine(checkpointsMetadata: true, nvram: true)
        }
        lab?.cleanup()
    }

    func testTheVMRunsBeforeItsDisksAreLocalKeepsItsWritesAndEndsWithoutBacking() throws {
        let (vm, point, reference) = try backedUpDomain(sizeMiB: 128, randomMiB: 48)
        let target = lab.root.appendingPathComponent("instant")
        let log = lab.root.appendingPathComponent("instant.log")
        // 8 MiB/s over 128 MiB (QEMU counts holes against the limit): about 16 s of pull.
        let (process, handle) = try startVbackup(
            ["restore", "vm", vm.domain.name, "--instant", "--as", restoredName, "--to", target.path, "--pull-limit", "8"] + storeArguments,
            log: log, environment: ["VBACKUP_CACHE": lab.cachePath.path])
        defer { handle.closeFile(); if process.isRunning { process.interrupt() } }

        try waitFor(log, containing: "running after", from: process, timeout: 60)
        let restored = try lab.connection.lookupDomain(restoredName)
        XCTAssertEqual(try restored.runState(), .running)
        let liveXML = try restored.xml()
        XCTAssertTrue(liveXML.contains("<backingStore type='network'") && liveXML.contains("protocol='nbd'"),
                      "at 'running' the disk still reads through the NBD export: \(liveXML)")
        let job = try XCTUnwrap(try restored.blockJobInfo(disk: "vda"), "the pull is still going")
        XCTAssertEqual(job.kind, .pull)
        XCTAssertLessThan(job.cur, job.end)

        // Guest writes during the pull, over backed-up data and over a hole: the pull must not undo them.
        let guest = LabDomain(domain: restored, directory: target)
        try guest.write("vda", offset: 8 * .mib, length: .mib, pattern: 0xE7)
        try guest.write("vda", offset: 100 * .mib, length: 2 * .mib, pattern: 0xE8)
        try applyOffline(["write -P 0xE7 8M 1M", "write -P 0xE8 100M 2M"], to: reference)

        process.waitUntilExit()
        let output = try String(contentsOf: log, encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 0, output)
        let order = ["running after", "pull: 25%", "pull: 75%", "local after"].map { output.range(of: $0)?.lowerBound }
        XCTAssertTrue(order.allSatisfy { $0 != nil } && order == order.sorted { $0! < $1! }, "running, then progress, then local: \(output)")
        let overlay = target.appendingPathComponent("\(restoredName)-vda.qcow2").path
        XCTAssertEqual(try restored.runState(), .running, "the VM ran throughout")
        XCTAssertFalse(try restored.xml().contains("<backingStore type="), "the live disk reads no backing")
        XCTAssertFalse(try restored.xml(inactive: true).contains("backingStore"), "nor does the definition")
        XCTAssertFalse(try runTool("/usr/bin/qemu-img", ["info", "-U", overlay]).out.contains("backing file"))
        XCTAssertEqual(try exportFolders(of: process), [], "the export's socket is gone")

        try restored.suspend()
        XCTAssertTrue(try LabDomain.sameContent(reference, overlay), "the local disk is point \(point) plus the guest's writes")
    }

    func testJSONReportsBothTimesAndEachDisk() throws {
        let (vm, point, _) = try backedUpDomain(sizeMiB: 32, randomMiB: 4)
        let target = lab.root.appendingPathComponent("instant-json")
        let run = try vbackup(["restore", "vm", vm.domain.name, "--instant", "--as", restoredName, "--to", target.path, "--json"])
        XCTAssertEqual(run.status, 0, run.err)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any], run.out)
        XCTAssertEqual(report["pointID"] as? String, point)
        XCTAssertEqual(report["definedAs"] as? String, restoredName)
        let running = try XCTUnwrap(report["runningAfterSeconds"] as? Double)
        let local = try XCTUnwrap(report["localAfterSeconds"] as? Double)
        XCTAssertGreaterThan(running, 0)
        XCTAssertGreaterThanOrEqual(local, running)
        let disks = try XCTUnwrap(report["disks"] as? [[String: Any]])
        XCTAssertEqual(disks.map { $0["target"] as? String }, ["vda"])
        XCTAssertEqual(disks.first?["path"] as? String, target.appendingPathComponent("\(restoredName)-vda.qcow2").path)
        XCTAssertEqual(disks.first?["bytesPulled"] as? Int, 32 << 20)
        XCTAssertGreaterThanOrEqual(disks.first?["bytesAllocated"] as? Int ?? 0, 4 << 20)
    }

    func testBadInputFailsWithOneLineAndLeavesNothing() throws {
        let (vm, _, _) = try backedUpDomain(sizeMiB: 32, randomMiB: 1)
        let target = lab.root.appendingPathComponent("instant-refused")
        let foldersBefore = try exportFolders()
        let common = ["--instant", "--to", target.path]

        let badPoint = try vbackup(["restore", "vm", vm.domain.name, "--point", "20200101T000000Z-000000", "--as", restoredName] + common)
        XCTAssertEqual(badPoint.status, 1)
        XCTAssertTrue(badPoint.err.contains("20200101T000000Z-000000"), badPoint.err)
        XCTAssertEqual(badPoint.err.split(separator: "\n").count, 1, badPoint.err)

        let takenName = try vbackup(["restore", "vm", vm.domain.name, "--as", vm.domain.name] + common)
        XCTAssertEqual(takenName.status, 1)
        XCTAssertTrue(takenName.err.contains("already exists"), takenName.err)
        XCTAssertEqual(takenName.err.split(separator: "\n").count, 1, takenName.err)
        XCTAssertEqual(try vm.domain.runState(), .running, "the VM that has the name is left alone")

        let raw = try vbackup(["restore", "vm", vm.domain.name, "--as", restoredName, "--format", "raw"] + common)
        XCTAssertEqual(raw.status, 64)
        XCTAssertTrue(raw.err.contains("qcow2 overlays"), raw.err)
        XCTAssertEqual(raw.err.split(separator: "\n").count, 1, raw.err)

        let noLibvirt = try vbackup(["restore", "vm", vm.domain.name, "--as", restoredName, "--connect", "qemu:///system?socket=/nonexistent/libvirt-sock"] + common)
        XCTAssertEqual(noLibvirt.status, 1)
        XCTAssertTrue(noLibvirt.err.contains("--instant needs a libvirt connection"), noLibvirt.err)
        XCTAssertEqual(noLibvirt.err.split(separator: "\n").count, 1, noLibvirt.err)

        XCTAssertThrowsError(try lab.connection.lookupDomain(restoredName), "no domain was defined")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.path), "no overlay, not even the folder, was left")
        XCTAssertEqual(try exportFolders(), foldersBefore, "no export socket was left")
    }

    func testASecondCtrlCDiscardsTheRunningVMAndEverythingMadeForIt() throws {
        let (vm, _, _) = try backedUpDomain(sizeMiB: 64, randomMiB: 8, serialLog: true)
        let target = lab.root.appendingPathComponent("instant-discard")
        let log = lab.root.appendingPathComponent("discard.log")
        let (process, handle) = try startVbackup(
            ["restore", "vm", vm.domain.name, "--instant", "--as", restoredName, "--to", target.path, "--pull-limit", "1"] + storeArguments,
            log: log, environment: ["VBACKUP_CACHE": lab.cachePath.path])
        defer { handle.closeFile(); if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try waitFor(log, containing: "running after", from: process, timeout: 60)

        process.interrupt()
        try waitFor(log, containing: "Press Ctrl-C again", from: process, timeout: 10)
        XCTAssertTrue(process.isRunning, "one Ctrl-C does not strand the VM")
        XCTAssertEqual(try lab.connection.lookupDomain(restoredName).runState(), .running)
        process.interrupt()
        process.waitUntilExit()

        let output = try String(contentsOf: log, encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 1, output)
        XCTAssertTrue(output.contains("destroyed and undefined domain '\(restoredName)'"), output)
        XCTAssertTrue(output.contains("\(restoredName)-vda.qcow2") && output.contains("\(restoredName)-\(vm.domain.name)-serial.log"),
                      "the message names the deleted overlay and console log: \(output)")
        XCTAssertThrowsError(try lab.connection.lookupDomain(restoredName), "the domain is gone")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.path), "its files, and the folder made for them, are gone")
        XCTAssertEqual(try exportFolders(of: process), [], "the export's socket is gone")
    }

    func testAVMThatStopsDuringThePullIsMadeLocalOffline() throws {
        let (vm, point, reference) = try backedUpDomain(sizeMiB: 64, randomMiB: 16)
        let target = lab.root.appendingPathComponent("instant-stopped")
        let log = lab.root.appendingPathComponent("stopped.log")
        let (process, handle) = try startVbackup(
            ["restore", "vm", vm.domain.name, "--instant", "--as", restoredName, "--to", target.path, "--pull-limit", "1"] + storeArguments,
            log: log, environment: ["VBACKUP_CACHE": lab.cachePath.path])
        defer { handle.closeFile(); if process.isRunning { process.interrupt() } }
        try waitFor(log, containing: "running after", from: process, timeout: 60)
        let restored = try lab.connection.lookupDomain(restoredName)
        try restored.destroy()   // as a guest shutting down mid-pull would

        process.waitUntilExit()
        let output = try String(contentsOf: log, encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 0, output)
        XCTAssertTrue(output.contains("copying the rest offline") && output.contains("local after"), output)
        let overlay = target.appendingPathComponent("\(restoredName)-vda.qcow2").path
        XCTAssertFalse(try runTool("/usr/bin/qemu-img", ["info", overlay]).out.contains("backing file"))
        XCTAssertTrue(try LabDomain.sameContent(reference, overlay), "the local disk is point \(point)")
        try restored.start()
        XCTAssertFalse(try restored.xml().contains("<backingStore type="), "it starts again on its local disk alone")
    }

    func testAVMThatCannotStartIsUndoneCompletely() throws {
        // The VM's network exists at backup time and is gone at restore time (another host, a
        // removed network): libvirt defines the domain, then refuses to start it.
        let network = "vbt-net-\(UUID().uuidString.prefix(6).lowercased())"
        let bridge = "vbtbr\(UUID().uuidString.prefix(6).lowercased())"
        let netXML = lab.root.appendingPathComponent("net.xml")
        try "<network><name>\(network)</name><bridge name='\(bridge)'/></network>".write(to: netXML, atomically: true, encoding: .utf8)
        XCTAssertEqual(try runTool("/usr/bin/virsh", ["-c", "qemu:///system", "net-create", netXML.path]).status, 0)
        var networkUp = true
        defer { if networkUp { _ = try? runTool("/usr/bin/virsh", ["-c", "qemu:///system", "net-destroy", network]) } }
        let vm = try lab.domain(start: false)
        let xml = try vm.domain.xml(inactive: true)
            .replacingOccurrences(of: "</devices>", with: "<interface type='network'><source network='\(network)'/><model type='virtio'/></interface></devices>")
        try lab.connection.defineDomain(xml: xml).start()
        _ = try lab.backup(vm)
        try vm.domain.destroy()
        XCTAssertEqual(try runTool("/usr/bin/virsh", ["-c", "qemu:///system", "net-destroy", network]).status, 0)
        networkUp = false
        let target = lab.root.appendingPathComponent("instant-unstartable")
        let foldersBefore = try exportFolders()

        let run = try vbackup(["restore", "vm", vm.domain.name, "--instant", "--as", restoredName, "--to", target.path])
        XCTAssertEqual(run.status, 1, run.out)
        XCTAssertTrue(run.err.contains(network), "libvirt's reason is passed on: \(run.err)")
        XCTAssertEqual(run.err.split(separator: "\n").count, 1, run.err)
        XCTAssertFalse(run.out.contains("running after"), run.out)
        XCTAssertThrowsError(try lab.connection.lookupDomain(restoredName), "the definition was removed")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.path), "the overlays were removed")
        XCTAssertEqual(try exportFolders(), foldersBefore, "the export and its socket were removed")
    }

    func testAStoreReadErrorFailsTheCommandNamingTheRangeAndLeavesNothing() throws {
        let (vm, pointID, _) = try backedUpDomain(sizeMiB: 64, randomMiB: 32)
        let disk = try lab.store.point(id: pointID).disks[0]
        let index = try lab.store.readDiskIndex(disk)
        let position = Int((16 * UInt64.mib) / UInt64(index.chunkSize))
        try lab.rot(index.chunks[position])
        let target = lab.root.appendingPathComponent("instant-rotten")
        let foldersBefore = try exportFolders()

        let run = try vbackup(["restore", "vm", vm.domain.name, "--instant", "--as", restoredName, "--to", target.path])
        XCTAssertEqual(run.status, 1, run.out + run.err)
        let start = position * index.chunkSize
        XCTAssertTrue(run.err.contains("vda bytes \(start)-\(start + index.chunkSize - 1)"), "the lost range is named: \(run.err)")
        XCTAssertEqual(run.err.split(separator: "\n").count, 1, run.err)
        XCTAssertTrue(run.err.contains("the guest saw EIO") && run.err.contains("destroyed and undefined domain '\(restoredName)'"),
                      "the VM ran from the point, then the pull hit the rotten chunk: \(run.err)")
        XCTAssertThrowsError(try lab.connection.lookupDomain(restoredName), "the VM is gone")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.path), "its files are gone")
        XCTAssertEqual(try exportFolders(), foldersBefore, "the export's socket is gone")

        // Once verify has marked the point damaged, it is refused before anything runs.
        XCTAssertEqual(try vbackup(["verify"]).status, 3)
        let refused = try vbackup(["restore", "vm", vm.domain.name, "--instant", "--as", restoredName, "--to", target.path])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.err.contains("is damaged") && refused.err.contains("vda bytes \(start)-"), refused.err)
        XCTAssertEqual(refused.err.split(separator: "\n").count, 1, refused.err)
        XCTAssertThrowsError(try lab.connection.lookupDomain(restoredName))
        XCTAssertFalse(FileManager.default.fileExists(atPath: target.path))
    }

    // MARK: - Helpers


    private var storeArguments: [String] { ["--store", lab.storePath.path] }

    private func vbackup(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runTool(vbackupBinary, arguments + storeArguments, environment: ["VBACKUP_CACHE": lab.cachePath.path])
    }

    /// A running domain with `randomMiB` of random data (neither compressible nor
    /// deduplicable) at its start and a pattern near its end, backed up; returns the point id
    /// and a copy of the disk at backup time. With `serialLog`, its saved definition has a
    /// file-backed serial console (which a restore moves next to its disks).
    private func backedUpDomain(sizeMiB: Int, randomMiB: UInt64, serialLog: Bool = false) throws -> (LabDomain, String, String) {
        let vm = try lab.domain([.init(target: "vda", sizeMiB: sizeMiB)])
        if serialLog {
            let serial = "<serial type='file'><source path='\(lab.root.path)/\(vm.domain.name)-serial.log'/></serial>"
            _ = try lab.connection.defineDomain(xml: try vm.domain.xml(inactive: true).replacingOccurrences(of: "</devices>", with: serial + "</devices>"))
        }
        let random = lab.root.appendingPathComponent("random.bin")
        let urandom = try XCTUnwrap(FileHandle(forReadingAtPath: "/dev/urandom"))
        try urandom.readData(ofLength: Int(randomMiB << 20)).write(to: random)
        urandom.closeFile()
        try vm.write("vda", offset: 0, length: randomMiB << 20, from: random.path)
        try vm.write("vda", offset: UInt64(sizeMiB - 2) * .mib, length: .mib, pattern: 0x5C)
        let (point, references) = try lab.backupWithReference(vm, tag: "instant")
        return (vm, point.id, references["vda"]!)
    }

    /// Applies qemu-io writes to an image at rest, as the guest made them in the restored VM.
    private func applyOffline(_ commands: [String], to image: String) throws {
        let result = try runTool("/usr/bin/qemu-io", ["-f", "qcow2"] + commands.flatMap { ["-c", $0] } + [image])
        XCTAssertEqual(result.status, 0, result.err)
    }

    /// Waits for `text` in the process's log; fails at once when the process has exited without it.
    private func waitFor(_ log: URL, containing text: String, from process: Process, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let running = process.isRunning
            if let content = try? String(contentsOf: log, encoding: .utf8), content.contains(text) { return }
            guard running else { break }
            usleep(100_000)
        }
        let exit = process.isRunning ? "still running" : "exited \(process.terminationStatus) (\(process.terminationReason == .uncaughtSignal ? "signal" : "exit"))"
        XCTFail("no '\(text)' within \(timeout) s, vbackup \(exit): \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        throw CancellationError()
    }

    /// The export socket folders (`/run/vbackup/instant-<pid>-…`) a vbackup process left.
    private func exportFolders(of process: Process) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/run/vbackup").filter { $0.hasPrefix("instant-\(process.processIdentifier)-") }
    }

    /// Every instant export folder now in /run/vbackup (other tests' runs included).
    private func exportFolders() throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: "/run/vbackup").filter { $0.hasPrefix("instant-") })
    }
}
