import BackupEngine
import Foundation
import LibvirtClient
import VBackupModel
@testable import VBackupStore
import XCTest

/// `vbackup drill` end to end with the tiny guest on the real libvirtd: points boot in a
/// sandbox beside the production VM and the guest itself vouches for its disk; drills that must
/// fail (a corrupted point, a panicking guest, a failing check script) do; Ctrl-C and a killed
/// drill leave nothing behind.
final class DrillTests: XCTestCase {
    var lab: Lab!
    var tiny: TinyGuestLab!
    let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
    static let checkOK = "^VBGUEST CHECK OK"

    override func setUpWithError() throws {
        lab = try Lab()
        tiny = try TinyGuestLab(lab: lab)
    }

    override func tearDown() {
        tiny?.cleanup()
        lab?.cleanup()
    }

    private var environment: [String: String] { ["VBACKUP_CACHE": lab.cachePath.path] }

    private func vbackup(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runTool(vbackupBinary, arguments + ["--store", lab.storePath.path], environment: environment)
    }

    /// `vbackup drill ARGS --json`, its exit status and report.
    private func drill(_ arguments: [String]) throws -> (status: Int32, report: DrillReport, err: String) {
        let run = try vbackup(["drill", "--json"] + arguments)
        guard let report = try? decoder.decode(DrillReport.self, from: Data(run.out.utf8)) else {
            throw TinyGuestLab.GuestError("drill printed no report (exit \(run.status)): \(run.err)\(run.out)")
        }
        return (run.status, report, run.err)
    }

    /// A guest's point: backed up by the `vbackup` binary (online when it runs, else offline).
    private func backup(_ guest: TinyGuestLab.Guest) throws -> PointManifest {
        let run = try vbackup(["backup", guest.name])
        XCTAssertEqual(run.status, 0, run.err)
        try lab.store.refresh()
        return try XCTUnwrap(try lab.store.listPoints(vm: guest.name).last)
    }

    func testABackupTakenWhileTheGuestWritesBootsInTheSandboxAndTheGuestVouchesForItsDisk() throws {
        let guest = try tiny.guest(run: "workload", agent: true)
        try guest.domain.start()
        try guest.waitForConsole("VBGUEST WORK t=")
        let point = try backup(guest)
        XCTAssertEqual(point.consistency, .crashConsistent, "taken while the workload wrote (the tiny agent cannot freeze)")
        let productionXML = try guest.domain.xml(inactive: true)
        let environmentFile = lab.root.appendingPathComponent("script-env.txt").path
        let script = try checkScript("""
            for disk in $VBACKUP_DRILL_DISKS; do test -f "$disk" || { echo "missing disk $disk"; exit 1; }; done
            grep -q 'VBGUEST CHECK OK' "$VBACKUP_DRILL_CONSOLE_LOG" || { echo "no CHECK OK on the console"; exit 1; }
            echo "$VBACKUP_DRILL_DOMAIN $VBACKUP_DRILL_UUID $VBACKUP_DRILL_VM $VBACKUP_DRILL_POINT $VBACKUP_DRILL_ID" > \(environmentFile)
            echo "environment and disks as documented"
            """)
        let html = lab.root.appendingPathComponent("drill.html")

        let overlay = try drill(["--vm", guest.name, "--report", html.path, "--console-pattern", Self.checkOK,
                                 "--check-script", script, "--timeout", "120"])
        XCTAssertEqual(overlay.status, 0, "\(overlay.report.vms.first?.failure ?? "") \(overlay.report.vms.first?.consoleTail ?? [])")
        let vm = try XCTUnwrap(overlay.report.vms.first)
        XCTAssertEqual(overlay.report.outcome, .passed)
        XCTAssertEqual(vm.pointID, point.id)
        XCTAssertEqual(vm.diskMode, "overlay")
        XCTAssertTrue(vm.sandboxName.hasPrefix("vbdrill-") && vm.sandboxName != guest.name)
        XCTAssertEqual(check(.console, in: vm)?.status, .passed)
        XCTAssertTrue(check(.console, in: vm)?.detail.hasPrefix("VBGUEST CHECK OK fsck clean") == true, check(.console, in: vm)?.detail ?? "")
        XCTAssertEqual(check(.script, in: vm)?.detail, "environment and disks as documented")
        XCTAssertEqual(check(.running, in: vm)?.status, .passed)
        XCTAssertEqual(check(.guestAgent, in: vm)?.status, .passed, "the sandbox kept the agent's channel, on a socket of its own")
        XCTAssertTrue(vm.consoleTail.contains { $0.hasPrefix("VBGUEST FSCK OK") }, "\(vm.consoleTail)")
        let running = try XCTUnwrap(vm.timings.running), healthy = try XCTUnwrap(vm.timings.healthy)
        XCTAssertLessThan(running, healthy)
        XCTAssertTrue(vm.cleanedUp)

        let seen = try String(contentsOfFile: environmentFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: " ").map(String.init)
        XCTAssertEqual(seen.count, 5)
        XCTAssertEqual(seen[0], vm.sandboxName)
        XCTAssertNotEqual(seen[1], guest.domain.uuid, "a new UUID")
        XCTAssertEqual(Array(seen[2...4]), [guest.name, point.id, overlay.report.id])

        // The production VM ran through it all, untouched, and still writes.
        XCTAssertEqual(try guest.domain.runState(), .running)
        XCTAssertEqual(try guest.domain.xml(inactive: true), productionXML)
        let workLines = guest.console.components(separatedBy: "VBGUEST WORK t=").count
        try waitUntil("the production guest writes on", timeout: 20) { guest.console.components(separatedBy: "VBGUEST WORK t=").count > workLines }
        try assertNothingLeft(of: overlay.report)

        try lab.store.refresh()
        let records = try lab.store.drillRecords(pointID: point.id)
        XCTAssertEqual(records.map(\.drillID), [overlay.report.id])
        XCTAssertEqual(records.first?.result.outcome, .passed)
        let page = try String(contentsOf: html, encoding: .utf8)
        XCTAssertTrue(page.contains(guest.name) && page.contains("PASSED") && page.contains(point.id))

        let copy = try drill(["--vm", guest.name, "--copy", "--console-pattern", Self.checkOK, "--timeout", "120"])
        XCTAssertEqual(copy.status, 0, "\(copy.report.vms.first?.failure ?? "")")
        let copied = try XCTUnwrap(copy.report.vms.first)
        XCTAssertEqual(copied.diskMode, "copy")
        try assertNothingLeft(of: copy.report)
        print(String(format: "tiny guest drill RTO: overlay running %.2f s, healthy %.2f s (disks ready %.2f s); "
                     + "copy running %.2f s, healthy %.2f s (disks ready %.2f s)",
                     running, healthy, vm.timings.disksReady ?? -1, copied.timings.running ?? -1, copied.timings.healthy ?? -1,
                     copied.timings.disksReady ?? -1))
    }

    func testACorruptedPointFailsWithTheStoreErrorInTheReport() throws {
        let guest = try tiny.guest(run: "workload")
        let point = try backup(guest)
        // The chunk holding the filesystem's superblock: every boot reads it.
        let first = try XCTUnwrap(try lab.store.readDiskIndex(point.disks[0]).chunks.first)
        try lab.rot(first)

        let overlay = try drill(["--vm", guest.name, "--console-pattern", Self.checkOK, "--timeout", "90"])
        XCTAssertEqual(overlay.status, 2)
        let vm = try XCTUnwrap(overlay.report.vms.first)
        XCTAssertEqual(vm.outcome, .failed)
        XCTAssertTrue(vm.storeErrors.first?.hasPrefix("vda bytes 0-") == true, "the store's read error is in the report: \(vm.storeErrors)")
        XCTAssertTrue(vm.failure?.contains("store") == true, vm.failure ?? "")
        XCTAssertNil(vm.timings.healthy)
        try assertNothingLeft(of: overlay.report)

        let copy = try drill(["--vm", guest.name, "--copy", "--console-pattern", Self.checkOK, "--timeout", "90"])
        XCTAssertEqual(copy.status, 2)
        let copied = try XCTUnwrap(copy.report.vms.first)
        XCTAssertEqual(copied.failedStep, "restore")
        XCTAssertTrue(copied.storeErrors.first?.contains("vda bytes 0-262143") == true, "names the lost range: \(copied.storeErrors)")
        XCTAssertEqual(Set(copied.checks.map(\.status)), [.skipped])
        try assertNothingLeft(of: copy.report)
    }

    func testAGuestThatPanicsFailsTheConsoleCheck() throws {
        let guest = try tiny.guest(run: "panic")
        let point = try backup(guest)
        let result = try drill(["--vm", guest.name, "--point", point.id, "--console-pattern", Self.checkOK, "--timeout", "90"])
        XCTAssertEqual(result.status, 2)
        let vm = try XCTUnwrap(result.report.vms.first)
        XCTAssertEqual(vm.failedStep, "checks")
        XCTAssertEqual(check(.console, in: vm)?.status, .failed)
        XCTAssertTrue(check(.console, in: vm)?.detail.contains("Kernel panic") == true, check(.console, in: vm)?.detail ?? "")
        XCTAssertTrue(vm.consoleTail.contains { $0.contains("sysrq") }, "\(vm.consoleTail)")
        try assertNothingLeft(of: result.report)
    }

    func testCtrlCDuringTheBootLeavesNothingAndAKilledDrillIsSweptByTheNext() throws {
        let guest = try tiny.guest(run: "workload")
        _ = try backup(guest)
        let arguments = ["drill", "--vm", guest.name, "--network", "isolated", "--console-pattern", "never matches", "--timeout", "120",
                         "--store", lab.storePath.path]

        // A drill killed outright leaves its sandbox behind...
        let killedLog = lab.root.appendingPathComponent("killed.log")
        let (killed, killedHandle) = try startDrill(arguments, log: killedLog)
        try waitUntil("the first sandbox runs", timeout: 60) { (try? String(contentsOf: killedLog, encoding: .utf8))?.contains("running at") == true }
        kill(killed.processIdentifier, SIGKILL)
        killed.waitUntilExit()
        try killedHandle.close()
        let killedID = try drillID(in: killedLog)
        XCTAssertFalse(leftovers(of: killedID).isEmpty, "a SIGKILLed drill cannot clean up")

        // ...which the next drill removes first; Ctrl-C during its boot then removes its own.
        let log = lab.root.appendingPathComponent("interrupted.log")
        let (process, handle) = try startDrill(arguments, log: log)
        try waitUntil("the second sandbox runs", timeout: 60) { (try? String(contentsOf: log, encoding: .utf8))?.contains("running at") == true }
        let id = try drillID(in: log)
        let network = try lab.connection.lookupNetwork("vbdrill-\(Self.shortID(id))-net0").xml()
        XCTAssertFalse(network.contains("<forward") || network.contains("<ip"), "isolated: no route out, no address: \(network)")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        try handle.close()
        let output = try String(contentsOf: log, encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 1, output)
        XCTAssertTrue(output.contains("removed the stale sandbox vbdrill-\(Self.shortID(killedID))"), output)
        XCTAssertTrue(output.contains("drill cancelled"), output)
        XCTAssertEqual(leftovers(of: killedID), [])
        XCTAssertEqual(leftovers(of: id), [])
    }

    func testAFailingCheckScriptOrTheTimeoutFailsTheDrillAndBadInputIsOneLine() throws {
        let guest = try tiny.guest(run: "workload")
        let point = try backup(guest)
        let script = try checkScript("echo checking the service\necho 'service down on port 80'\nexit 3")
        let result = try drill(["--vm", guest.name, "--check-script", script, "--console-pattern", Self.checkOK, "--settle", "1"])
        XCTAssertEqual(result.status, 2)
        let vm = try XCTUnwrap(result.report.vms.first)
        XCTAssertEqual(check(.script, in: vm)?.status, .failed)
        XCTAssertEqual(check(.script, in: vm)?.detail, "exit 3: service down on port 80")
        XCTAssertEqual(check(.console, in: vm)?.status, .passed, "the guest itself was fine")
        XCTAssertEqual(check(.guestAgent, in: vm)?.status, .skipped, "no agent channel, nothing to ping")
        try assertNothingLeft(of: result.report)
        try lab.store.refresh()
        XCTAssertEqual(try lab.store.drillRecords(pointID: point.id).map(\.result.outcome), [.failed], "a failure is recorded too")

        let late = try drill(["--vm", guest.name, "--console-pattern", "never printed", "--timeout", "6"])
        XCTAssertEqual(late.status, 2)
        let timedOut = try XCTUnwrap(late.report.vms.first)
        XCTAssertEqual(timedOut.failure, "not healthy after 6 s (timeout), waiting for console")
        XCTAssertEqual(check(.console, in: timedOut)?.status, .failed)
        XCTAssertEqual(check(.running, in: timedOut)?.status, .passed, "it ran; it just never said the line")
        try assertNothingLeft(of: late.report)

        for (arguments, message) in [(["--vm", "no-such-vm-*"], "vbackup: no VM in the store matches 'no-such-vm-*'"),
                                     (["--point", "20000101-000000-none"], "vbackup: no restore point '20000101-000000-none' in the store")] {
            let bad = try vbackup(["drill"] + arguments)
            XCTAssertEqual(bad.status, 1, bad.err)
            XCTAssertEqual(bad.err, message + "\n")
            XCTAssertEqual(bad.out, "")
        }
        XCTAssertEqual(try vbackup(["drill", "--point", point.id, "--latest"]).status, 64)
    }

    // MARK: helpers

    /// A drill process that is stopped with Ctrl-C (and cleans up) if the test ends before it.
    private func startDrill(_ arguments: [String], log: URL) throws -> (Process, FileHandle) {
        let (process, handle) = try startVbackup(arguments, log: log, environment: environment)
        addTeardownBlock {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGINT)
            for _ in 0..<300 where process.isRunning { usleep(100_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        return (process, handle)
    }

    private func check(_ kind: DrillCheckResult.Kind, in vm: DrillVMResult) -> DrillCheckResult? {
        vm.checks.first { $0.kind == kind }
    }

    /// An executable shell script in the lab folder.
    private func checkScript(_ body: String) throws -> String {
        let path = lab.root.appendingPathComponent("check-\(UUID().uuidString.prefix(6)).sh").path
        try Data("#!/bin/sh\n\(body)\n".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o755)
        return path
    }

    /// `drill-YYYYMMDD-HHMMSS-xxxx` -> `HHMMSSxxxx`, as in the sandbox's names.
    static func shortID(_ id: String) -> String {
        let parts = id.split(separator: "-")
        return String(parts[2] + parts[3])
    }

    /// The id in the drill's first progress line, `drill drill-…: 1 VM, scratch folder …`.
    private func drillID(in log: URL) throws -> String {
        let text = try String(contentsOf: log, encoding: .utf8)
        let match = try XCTUnwrap(text.range(of: #"drill drill-\d{8}-\d{6}-[0-9a-f]{4}:"#, options: .regularExpression), text)
        return String(text[match].dropFirst("drill ".count).dropLast())
    }

    /// Whatever of drill `id` still exists: domains, networks, its scratch folder.
    private func leftovers(of id: String) -> [String] {
        let prefix = "vbdrill-\(Self.shortID(id))"
        let domains = ((try? lab.connection.listAllDomains()) ?? []).map(\.name).filter { $0.hasPrefix(prefix) }
        let networks = ((try? lab.connection.listAllNetworks()) ?? []).map(\.name).filter { $0.hasPrefix(prefix) }
        let folder = "/var/lib/libvirt/images/vbackup-drills/\(id)"
        return domains + networks + (FileManager.default.fileExists(atPath: folder) ? [folder] : [])
    }

    private func assertNothingLeft(of report: DrillReport, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(leftovers(of: report.id), [], "the drill left things behind", file: file, line: line)
        XCTAssertTrue(report.vms.allSatisfy(\.cleanedUp), file: file, line: line)
    }

    private func waitUntil(_ what: String, timeout: TimeInterval, _ condition: () throws -> Bool) throws {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if try condition() { return }
            usleep(100_000)
        }
        throw TinyGuestLab.GuestError("timed out waiting until \(what)")
    }

}
