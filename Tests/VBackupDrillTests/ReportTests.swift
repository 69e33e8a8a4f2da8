import Foundation
@testable import VBackupDrill
import VBackupModel
import XCTest

/// The JSON document scripts read is a stable schema: these are its keys, by name.
final class DrillReportSchemaTests: XCTestCase {
    static func sample(vm: String = "web", console: [String] = ["VBGUEST CHECK OK"], storeErrors: [String] = []) -> DrillReport {
        let failing = DrillVMResult(
            vm: vm, vmUUID: "6c1a2b3c-0000-4000-8000-000000000001", pointID: "20261122-101500-ab12",
            pointCreatedAt: Date(timeIntervalSince1970: 1_795_000_000), sandboxName: "vbdrill-101500beef-web", outcome: .failed,
            failure: "console: Kernel panic - not syncing", failedStep: "checks", diskMode: "overlay",
            timings: DrillTimings(disksReady: 0.4, running: 1.1, healthy: 9.5, teardown: 0.8),
            checks: [DrillCheckResult(kind: .guestAgent, status: .skipped, detail: "no channel", at: nil),
                     DrillCheckResult(kind: .console, status: .failed, detail: "Kernel panic", at: 4.2)],
            consoleTail: console, storeErrors: storeErrors, cleanedUp: true)
        return DrillReport(id: "drill-20261122-101500-beef", host: "hv1", startedAt: Date(timeIntervalSince1970: 1_795_000_100),
                           finishedAt: Date(timeIntervalSince1970: 1_795_000_160), vms: [failing])
    }

    func encoded(_ report: DrillReport) throws -> [String: Any] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try JSONSerialization.jsonObject(with: encoder.encode(report)) as! [String: Any]
    }

    func testTheReportsKeysAreTheDocumentedOnes() throws {
        let json = try encoded(Self.sample())
        XCTAssertEqual(Set(json.keys), ["schemaVersion", "id", "host", "startedAt", "finishedAt", "outcome", "vms"])
        XCTAssertEqual(json["schemaVersion"] as? Int, 1)
        XCTAssertEqual(json["outcome"] as? String, "failed")
        XCTAssertEqual(json["startedAt"] as? String, "2026-11-18T11:08:20Z")
        let vm = try XCTUnwrap((json["vms"] as? [[String: Any]])?.first)
        XCTAssertEqual(Set(vm.keys), ["vm", "vmUUID", "pointID", "pointCreatedAt", "sandboxName", "outcome", "failure", "failedStep",
                                      "diskMode", "timings", "checks", "consoleTail", "storeErrors", "cleanedUp"])
        XCTAssertEqual(Set((vm["timings"] as? [String: Any])?.keys ?? [:].keys), ["disksReady", "running", "healthy", "teardown"])
        let check = try XCTUnwrap((vm["checks"] as? [[String: Any]])?.last)
        XCTAssertEqual(Set(check.keys), ["kind", "status", "detail", "at"])
        XCTAssertEqual((vm["checks"] as? [[String: Any]])?.first?["kind"] as? String, "guest-agent")
    }

    func testAPassingVMHasNullFailureKeysAndTheReportPasses() throws {
        var report = Self.sample()
        report.vms[0].outcome = .passed
        report.vms[0].failure = nil
        report.vms[0].failedStep = nil
        report.vms[0].timings.teardown = nil
        let passing = DrillReport(id: report.id, host: report.host, startedAt: report.startedAt, finishedAt: report.finishedAt, vms: report.vms)
        let json = try encoded(passing)
        XCTAssertEqual(json["outcome"] as? String, "passed")
        let vm = try XCTUnwrap((json["vms"] as? [[String: Any]])?.first)
        XCTAssertTrue(vm["failure"] is NSNull, "the key is there, null: scripts read a fixed set of keys")
        XCTAssertTrue(vm["failedStep"] is NSNull)
        XCTAssertTrue((vm["timings"] as? [String: Any])?["teardown"] is NSNull, "a step never reached is null")
        XCTAssertEqual(DrillReport(id: "x", host: "h", startedAt: Date(), finishedAt: Date(), vms: []).outcome, .failed,
                       "a drill of nothing proves nothing")
    }
}

/// The HTML report escapes everything that comes from outside and loads nothing.
final class DrillHTMLReportTests: XCTestCase {
    func testEverythingFromOutsideIsEscaped() {
        let hostile = #"<script>alert("x")</script>"#
        let report = DrillReportSchemaTests.sample(vm: "web<b>&", console: [hostile, "<img src=x onerror=alert(1)>", "tab\there"],
                                                   storeErrors: ["pack 'ab' is corrupt: \"bad\" <hash>"])
        let html = DrillHTMLReport.render(report)
        XCTAssertFalse(html.contains("<script"), "no script, hostile or not")
        XCTAssertFalse(html.contains("<img"))
        XCTAssertFalse(html.contains("<b>&"))
        XCTAssertTrue(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"))
        XCTAssertTrue(html.contains("web&lt;b&gt;&amp;"))
        XCTAssertTrue(html.contains("pack &#39;ab&#39; is corrupt: &quot;bad&quot; &lt;hash&gt;"))
        XCTAssertEqual(DrillHTMLReport.escape("a\u{1B}[31mb"), "a\u{FFFD}[31mb", "terminal escapes are neutralised")
    }

    func testThePageIsSelfContainedAndNamesTheVerdictPointTimingsAndChecks() {
        let html = DrillHTMLReport.render(DrillReportSchemaTests.sample())
        for external in ["src=", "href=", "@import", "url(", "http://", "https://"] {
            XCTAssertFalse(html.contains(external), "\(external) would load something")
        }
        for expected in ["FAILED", "20261122-101500-ab12", "Healthy (RTO)", "9.5 s", "guest-agent", "Kernel panic", "VBGUEST CHECK OK"] {
            XCTAssertTrue(html.contains(expected), expected)
        }
    }

    func testTheReportIsWrittenAtomically() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("drill-html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("report.html")
        try Data("old".utf8).write(to: file)
        try DrillHTMLReport.write(DrillReportSchemaTests.sample(), to: file)
        XCTAssertTrue(try String(contentsOf: file, encoding: .utf8).hasPrefix("<!DOCTYPE html>"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["report.html"], "no temporary file left")
    }
}
