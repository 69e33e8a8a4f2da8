import Foundation
@testable import VBackupDrill
import XCTest

/// Names, the console follower, the check-script runner and the stale-sandbox guard.
final class DrillPartsTests: XCTestCase {
    func testNamesCarryThePrefixAndShortIDAndStayShortAndSafe() {
        let identity = DrillIdentity(startedAt: Date(timeIntervalSince1970: 1_795_000_000), random: 0xbeef)
        XCTAssertEqual(identity.id, "drill-20261118-110640-beef")
        XCTAssertEqual(identity.sandboxName(vm: "web"), "vbdrill-110640beef-web")
        let odd = identity.sandboxName(vm: "../db/prod 1 ü" + String(repeating: "x", count: 100))
        XCTAssertLessThanOrEqual(odd.count, DrillIdentity.maxDomainName)
        XCTAssertTrue(odd.hasPrefix("vbdrill-110640beef-"))
        XCTAssertFalse(odd.contains("/"))
        XCTAssertFalse(odd.contains(" "))
        XCTAssertEqual(identity.networkName(vmIndex: 2), "vbdrill-110640beef-net2")
    }

    func testTheConsoleFollowerReturnsEachCompleteLineOnceAndKeepsATail() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = ConsoleLog(path: path)
        XCTAssertEqual(log.poll(), [], "no file yet")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("first\r\nsec".utf8)))
        XCTAssertEqual(log.poll(), ["first"])
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("ond\n\u{1B}[0mthird\npartial".utf8))
        try handle.close()
        XCTAssertEqual(log.poll(), ["second", "[0mthird"])
        XCTAssertEqual(log.poll(), [])
        XCTAssertEqual(log.tailForReport, ["first", "second", "[0mthird", "partial"])
    }

    func testTheCheckScriptGetsItsEnvironmentAndItsLastLineIsTheDetail() throws {
        let folder = try scratch()
        let output = folder.appendingPathComponent("out.log").path
        let outcome = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "echo first; echo \"domain=$VBACKUP_DRILL_DOMAIN\"; echo; exit 3"],
                                       environment: ["VBACKUP_DRILL_DOMAIN": "vbdrill-1-web"], outputFile: output)
            .run(deadline: .now + .seconds(10)) { false }
        XCTAssertEqual(outcome.status, 3)
        XCTAssertFalse(outcome.stopped)
        XCTAssertEqual(ChildProcess.lastLine(of: output), "domain=vbdrill-1-web")
    }

    func testATimedOutScriptIsStoppedWithEverythingItStarted() throws {
        let folder = try scratch()
        let pidFile = folder.appendingPathComponent("child.pid").path
        let started = ContinuousClock.now
        let outcome = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "sleep 60 & echo $! > \(pidFile); wait"])
            .run(deadline: .now + .milliseconds(500)) { false }
        XCTAssertTrue(outcome.stopped)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
        let child = try XCTUnwrap(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        usleep(300_000)
        XCTAssertTrue(Self.isGone(child), "the script's own child was killed with it")
    }

    /// No such process, or only its zombie (waiting for whoever adopted it to reap it).
    static func isGone(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    func testLivenessTellsThisProcessFromADeadOneAndFromAReusedPid() {
        let me = ProcessIdentity.current
        XCTAssertTrue(me.isAlive)
        XCTAssertFalse(ProcessIdentity(pid: me.pid, startTicks: me.startTicks + 1).isAlive, "same pid, another start: another process")
        XCTAssertFalse(ProcessIdentity(pid: 0x3FFF_FFFF, startTicks: 1).isAlive)
    }

    func testAMarkerCanOnlyMakeTheSweepRemoveAFolderShapedLikeADrills() {
        XCTAssertNotNil(StaleSandboxes.sandboxFolder("/var/lib/libvirt/images/vbackup-drills/drill-20261122-1/vbdrill-1-web"))
        XCTAssertNil(StaleSandboxes.sandboxFolder("/"))
        XCTAssertNil(StaleSandboxes.sandboxFolder("/var/lib/libvirt/images"))
        XCTAssertNil(StaleSandboxes.sandboxFolder("/var/lib/libvirt/images/drill-1/vbdrill-1/.."))
    }

    private func scratch() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drill-parts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }
}
