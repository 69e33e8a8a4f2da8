import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LibvirtClient
import LocalStorage
import VBackupAgent
import VBackupStore
import XCTest

/// The agent as operators run it: a `vbackup agent` process, killed with SIGKILL mid-job and
/// restarted, fed broken policy files, and asked for its status.
final class AgentProcessTests: XCTestCase {
    /// A SIGKILL mid-job leaves a libvirt pull job running and the journal saying `running`;
    /// the next agent ends the leftover job, records the interruption, re-runs the backup, and
    /// the store ends with exactly one point.
    func testRestartAfterSIGKILLMidJobEndsLeftoversAndLosesNoResult() throws {
        let lab = try Lab()
        defer { lab.cleanup() }
        let agent = try AgentLab(lab: lab)
        defer { agent.cleanup() }
        let vm = try lab.domain()
        try vm.write("vda", offset: 0, length: 40 * .mib, from: try agent.randomFile(mib: 40))
        let tag = "agent-test-\(UUID().uuidString.prefix(6).lowercased())"
        try vm.domain.setVbackupTags([tag])   // selected by its tag, as operators group VMs
        try agent.writePolicy("slow", """
            version: 1
            name: slow
            select: {tags: [\(tag)]}
            throttle: {job-bandwidth: 4MiB/s}
            """)
        try agent.start()
        XCTAssertEqual(try agent.vbackup(["agent", "run", "--policy", "slow"]).status, 0)
        let running = try agent.waitForStatus(timeout: 60) { ($0.running.first?.bytesRead ?? 0) > 8 * .mib }
        XCTAssertEqual(running.running.map(\.vm), [vm.domain.name], "the tag selects this VM and no other")
        agent.kill()
        XCTAssertTrue(try vm.domain.hasActiveJob(), "the killed agent's libvirt backup job is still there")

        try agent.start()
        let settled = try agent.waitForStatus(timeout: 120) { status in
            status.running.isEmpty && status.queued.isEmpty && status.recent.contains { $0.state == "succeeded" }
        }
        XCTAssertEqual(settled.recent.map(\.state).sorted(), ["interrupted", "succeeded"])
        let interrupted = try XCTUnwrap(settled.recent.first { $0.state == "interrupted" })
        XCTAssertTrue(interrupted.error?.contains("died while the job ran") == true, interrupted.error ?? "")
        XCTAssertEqual(settled.recent.first { $0.state == "succeeded" }?.trigger, "retry")
        let log = try String(contentsOf: agent.log, encoding: .utf8)
        XCTAssertTrue(log.contains("ended the backup job of \(vm.domain.name)"), "the leftover libvirt job was ended")
        XCTAssertFalse(try vm.domain.hasActiveJob())
        XCTAssertEqual(try lab.freshStore().listPoints(vm: vm.domain.name).count, 1)
        agent.stop()
    }

    /// A policy file that fails validation is refused with file and line, and the agent keeps
    /// running on that file's last good version; fixing the file clears the error.
    func testBrokenPolicyIsRefusedWithFileAndLineAndTheLastGoodOneKept() throws {
        let lab = try Lab()
        defer { lab.cleanup() }
        let agent = try AgentLab(lab: lab)
        defer { agent.cleanup() }
        // It selects every VM, so it must never fire while the test runs (a real 01:00 would
        // catch up on every VM of the host when the suite runs at night).
        let good = """
            version: 1
            name: nightly
            schedule:
              - calendar: "2099-01-01 01:00"
            throttle:
              max-concurrent-jobs: 3
            """
        try agent.writePolicy("nightly", good)
        let port = 19_000 + Int(getpid() % 1000)
        try agent.start(metrics: "127.0.0.1:\(port)")
        try agent.waitForStatus(timeout: 30) { $0.agent.policies.map(\.name) == ["nightly"] && $0.throttle.maxConcurrentJobs == 3 }
        let metrics = try String(contentsOf: URL(string: "http://127.0.0.1:\(port)/metrics")!, encoding: .utf8)
        XCTAssertTrue(metrics.contains("vbackup_jobs_running 0"), metrics)
        XCTAssertTrue(metrics.contains("vbackup_throttle_factor 1"), metrics)

        try agent.writePolicy("nightly", good.replacingOccurrences(of: "max-concurrent-jobs: 3", with: "max-concurent-jobs: 1"))
        let reload = try agent.vbackup(["agent", "reload"])
        XCTAssertEqual(reload.status, 1, reload.out + reload.err)
        let file = agent.policies.appendingPathComponent("nightly.yaml").path
        XCTAssertTrue(reload.err.contains("\(file):6:"), reload.err)
        let kept = try agent.waitForStatus(timeout: 10) { !$0.agent.policyErrors.isEmpty }
        XCTAssertEqual(kept.agent.policies.first?.keptLastGood, true)
        XCTAssertEqual(kept.throttle.maxConcurrentJobs, 3, "the last good version is still in force")

        let check = try runTool(vbackupBinary, ["policy", "check", file])
        XCTAssertEqual(check.status, 1)
        XCTAssertTrue(check.err.contains("\(file):6:"), check.err)

        try agent.writePolicy("nightly", good.replacingOccurrences(of: "max-concurrent-jobs: 3", with: "max-concurrent-jobs: 1"))
        let fixed = try agent.waitForStatus(timeout: 10) { $0.agent.policyErrors.isEmpty && $0.throttle.maxConcurrentJobs == 1 }
        XCTAssertEqual(fixed.agent.policies.first?.keptLastGood, false)

        // Two policies selecting one VM: the higher priority backs it up, and status names the overlap.
        let vm = try lab.domain(start: false)
        try agent.writePolicy("zz-everything", "version: 1\nname: everything\npriority: 10\n")
        let overlap = try agent.waitForStatus(timeout: 10) { status in status.agent.policyOverlaps.contains { $0.contains(vm.domain.name) } }
        XCTAssertTrue(overlap.agent.policyOverlaps.contains("VM \(vm.domain.name): policy nightly backs it up; everything also select it"),
                      "\(overlap.agent.policyOverlaps)")
        try FileManager.default.removeItem(at: agent.policies.appendingPathComponent("zz-everything.yaml"))

        let text = try agent.vbackup(["status"])
        XCTAssertEqual(text.status, 0)
        XCTAssertTrue(text.out.contains("policies: nightly"), text.out)
        XCTAssertTrue(text.out.contains("throttle: normal"), text.out)
        agent.stop()
        let stopped = try agent.vbackup(["status", "--json"])
        XCTAssertEqual(stopped.status, 1, "status fails when no agent runs")
        XCTAssertTrue(stopped.out.contains("\"alive\" : false"), stopped.out)
    }
}

extension Lab {
    /// The store as another host sees it now (a new catalog cache).
    func freshStore() throws -> Store {
        try Store.open(adapter: LocalStorageAdapter(root: storePath, create: false),
                       cacheDirectory: root.appendingPathComponent("check-cache-\(UUID().uuidString.prefix(6))"))
    }
}
