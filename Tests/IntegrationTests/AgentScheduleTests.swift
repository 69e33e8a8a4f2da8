import BackupEngine
import Foundation
import LocalStorage
import VBackupAgent
import VBackupModel
import VBackupStore
import XCTest

/// The agent backs up every VM its policy selects, on the policy's calendar, within the
/// host's concurrency limit; runs missed while it was down are caught up while their window is
/// open, and never after. A `ManualClock` moves the agent through three nights in seconds; the
/// VMs, libvirt, the store and the journal are real.
final class AgentScheduleTests: XCTestCase {
    func testNightlyScheduleBacksUpEveryVMWithinTheConcurrencyLimitAndCatchesUpMissedRuns() throws {
        let lab = try Lab()
        defer { lab.cleanup() }
        let agentLab = try AgentLab(lab: lab)
        let vms = try (0..<3).map { _ in try lab.domain() }
        for vm in vms { try vm.write("vda", offset: 0, length: 12 * .mib, pattern: 0x5a) }
        try agentLab.writePolicy("nightly", """
            version: 1
            name: nightly
            select:
              vms: [\(vms.map { "\"\($0.domain.name)\"" }.joined(separator: ", "))]
            schedule:
              - calendar: "*-*-* 01:00"
                timezone: UTC
                window: 2h
                jitter: 10m
            retention:
              keep-last: 5
            throttle:
              max-concurrent-jobs: 2
              job-bandwidth: 4MiB/s
            """)
        let night1 = try XCTUnwrap(ISO8601DateFormatter().date(from: "2026-11-20T00:30:00Z"))
        let clock = ManualClock(night1)
        var runner = try AgentRunner(agentLab.configuration(clock: clock))

        let before = try runner.waitForStatus { $0.next.count == 3 }
        XCTAssertTrue(before.running.isEmpty && before.queued.isEmpty, "nothing is due at 00:30")
        for upcoming in before.next {
            XCTAssertGreaterThanOrEqual(upcoming.at, night1.addingTimeInterval(30 * 60))
            XCTAssertLessThan(upcoming.at, night1.addingTimeInterval(40 * 60), "01:00 plus a jitter under 10 minutes")
        }
        XCTAssertGreaterThan(Set(before.next.map(\.at)).count, 1, "jitter spreads the starts")

        clock.set(night1.addingTimeInterval(50 * 60))   // 01:20: every VM's start has passed
        runner.agent.poke()
        let firstNight = try runner.waitForJobs(3, timeout: 180)
        XCTAssertEqual(firstNight.map(\.state), Array(repeating: "succeeded", count: 3))
        XCTAssertEqual(firstNight.map(\.trigger), Array(repeating: "schedule", count: 3))
        XCTAssertEqual(runner.maxRunning, 2, "two of three jobs ran at once: the limit, and never more")
        XCTAssertEqual(try pointsPerVM(lab, vms), [1, 1, 1])

        // Night 2: the same VMs again, now incrementals.
        try vms[1].write("vda", offset: 32 * .mib, length: 1 * .mib, pattern: 0x77)
        clock.set(night1.addingTimeInterval(24 * 3600 + 50 * 60))
        runner.agent.poke()
        let secondNight = try runner.waitForJobs(6, timeout: 180)
        XCTAssertEqual(secondNight.filter { $0.state == "succeeded" }.count, 6)
        XCTAssertEqual(try pointsPerVM(lab, vms), [2, 2, 2])
        let changed = try lab.freshStore().listPoints(vm: vms[1].domain.name).last
        XCTAssertEqual(changed?.disks.first?.mode, .incremental)

        // Night 3 happens while the agent is down; it comes back at 01:30, inside the window.
        runner.stop()
        clock.set(night1.addingTimeInterval(2 * 24 * 3600 + 60 * 60))
        runner = try AgentRunner(agentLab.configuration(clock: clock))
        let caughtUp = try runner.waitForJobs(9, timeout: 180)
        XCTAssertEqual(caughtUp.suffix(3).map(\.trigger), Array(repeating: "catch-up", count: 3))
        XCTAssertEqual(try pointsPerVM(lab, vms), [3, 3, 3])

        // Night 4 is missed entirely: the agent comes back at 04:00, after the window closed.
        runner.stop()
        clock.set(night1.addingTimeInterval(3 * 24 * 3600 + 3.5 * 3600))
        runner = try AgentRunner(agentLab.configuration(clock: clock))
        let late = try runner.waitForStatus { $0.agent.updatedAt >= clock.now }
        XCTAssertTrue(late.queued.isEmpty && late.running.isEmpty, "no run starts after its window closed")
        XCTAssertEqual(late.recent.count, 9)
        XCTAssertGreaterThan(try XCTUnwrap(late.next.first?.at), clock.now.addingTimeInterval(20 * 3600), "next: the coming night")
        runner.stop()
    }

    private func pointsPerVM(_ lab: Lab, _ vms: [LabDomain]) throws -> [Int] {
        let store = try lab.freshStore()
        return try vms.map { try store.listPoints(vm: $0.domain.name).count }
    }
}

/// An in-process agent on its own thread, watched through its status.
struct AgentRunner {
    let agent: Agent
    private let done = DispatchSemaphore(value: 0)
    private let peak = PeakCounter()

    init(_ config: AgentConfiguration) throws {
        let agent = try Agent(config)
        self.agent = agent
        let done = self.done
        Thread.detachNewThread {
            do { try agent.run() } catch { XCTFail("agent failed: \(error)") }
            done.signal()
        }
    }

    /// The most jobs seen running at once while waiting.
    var maxRunning: Int { peak.value }

    func waitForStatus(timeout: TimeInterval = 30, _ condition: (AgentStatus) -> Bool) throws -> AgentStatus {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = agent.status {
                peak.observe(status.running.count)
                if condition(status) { return status }
            }
            usleep(100_000)
        }
        throw AgentLabError.timeout("status: \(String(describing: agent.status))")
    }

    /// Waits until `count` jobs have finished and nothing is queued or running; oldest first.
    func waitForJobs(_ count: Int, timeout: TimeInterval) throws -> [AgentStatus.Finished] {
        let status = try waitForStatus(timeout: timeout) { $0.recent.count >= count && $0.running.isEmpty && $0.queued.isEmpty }
        return status.recent.reversed()
    }

    func stop() {
        agent.stop()
        done.wait()
    }
}

final class PeakCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var peak = 0
    func observe(_ value: Int) { lock.withLock { peak = max(peak, value) } }
    var value: Int { lock.withLock { peak } }
}
