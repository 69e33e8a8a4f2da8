import Foundation
import VBackupAgent
import XCTest

/// The agent's brakes, measured from outside: bytes read per job as `vbackup status` reports
/// them, sampled twice a second while real backups run.
final class AgentThrottleTests: XCTestCase {
    /// Two concurrent jobs under a 20 MiB/s host limit: over at least 10 s the aggregate stays
    /// within ±10 % of the limit, and each job gets half of it (±10 %).
    func testHostBandwidthLimitHoldsAndIsSharedFairly() throws {
        let lab = try Lab()
        defer { lab.cleanup() }
        let agent = try AgentLab(lab: lab)
        defer { agent.cleanup() }
        let random = try agent.randomFile(mib: 200)
        let vms = try (0..<2).map { _ in try lab.domain([.init(target: "vda", sizeMiB: 256)]) }
        for vm in vms { try vm.write("vda", offset: 0, length: 200 * .mib, from: random) }
        try agent.writePolicy("limited", """
            version: 1
            name: limited
            select: {vms: [\(vms.map { "\"\($0.domain.name)\"" }.joined(separator: ", "))]}
            throttle: {host-bandwidth: 20MiB/s, max-concurrent-jobs: 2}
            """)
        try agent.start()
        XCTAssertEqual(try agent.vbackup(["agent", "run", "--policy", "limited"]).status, 0)
        try agent.waitForStatus(timeout: 60) { $0.running.count == 2 && $0.running.allSatisfy { $0.bytesRead > 4 * .mib } }
        let samples = try sample(agent, seconds: 12) { $0.running.count == 2 }
        let seconds = samples.last!.time - samples.first!.time
        XCTAssertGreaterThanOrEqual(seconds, 10, "both jobs ran together for at least 10 s")
        let perJob = samples.first!.bytes.keys.map { id in Double(samples.last!.bytes[id]! - samples.first!.bytes[id]!) / seconds }
        let total = perJob.reduce(0, +)
        let limit = 20.0 * 1048576
        print("host limit 20 MiB/s: measured \(total / 1048576) MiB/s over \(seconds) s; per job \(perJob.map { $0 / 1048576 })")
        XCTAssertEqual(total, limit, accuracy: limit * 0.10)
        for rate in perJob { XCTAssertEqual(rate, total / 2, accuracy: total / 2 * 0.10, "a fair half") }
        agent.stop()
    }

    /// A CPU and I/O hog on the host: the agent's adaptive throttle slows or pauses its job
    /// (its own state says why) and the measured rate drops; when the hog stops, it recovers.
    func testAdaptiveThrottleBacksOffUnderHostPressureAndRecovers() throws {
        let lab = try Lab()
        defer { lab.cleanup() }
        let agent = try AgentLab(lab: lab)
        defer { agent.cleanup() }
        let vm = try lab.domain([.init(target: "vda", sizeMiB: 384)])
        try vm.write("vda", offset: 0, length: 300 * .mib, from: try agent.randomFile(mib: 300))
        try agent.writePolicy("adaptive", """
            version: 1
            name: adaptive
            select: {vms: ["\(vm.domain.name)"]}
            throttle:
              host-bandwidth: 12MiB/s
              adaptive:
                cpu-pressure: {slow: 50%, pause: 90%}
                io-pressure: {slow: 50%, pause: 90%}
            """)
        try agent.start()
        XCTAssertEqual(try agent.vbackup(["agent", "run", "--policy", "adaptive"]).status, 0)
        try agent.waitForStatus(timeout: 60) { ($0.running.first?.bytesRead ?? 0) > 4 * .mib }
        let calm = try sample(agent, seconds: 4) { !$0.running.isEmpty }
        XCTAssertTrue(calm.allSatisfy { $0.state == "normal" }, "no pressure, no brake: \(calm.map(\.state))")

        let hog = try Hog(directory: lab.root)
        let pressed = try sample(agent, seconds: 8) { !$0.running.isEmpty }
        hog.stop()
        let pressedLate = Array(pressed.suffix(8))
        XCTAssertTrue(pressed.contains { $0.state == "slowed" || $0.state == "paused" }, "\(pressed.map(\.state))")
        let reasons = Set(pressed.map(\.reason))
        XCTAssertTrue(reasons.contains { $0.contains("pressure") }, "the state says why: \(reasons)")

        let recovered = try sample(agent, seconds: 14) { !$0.running.isEmpty }
        XCTAssertTrue(recovered.suffix(4).allSatisfy { $0.state == "normal" || $0.state == "recovering" }, "\(recovered.map(\.state))")
        let calmRate = rate(calm), pressedRate = rate(pressedLate), recoveredRate = rate(Array(recovered.suffix(5)))
        print("adaptive: calm \(calmRate / 1048576) MiB/s, under the hog \(pressedRate / 1048576) MiB/s, after \(recoveredRate / 1048576) MiB/s")
        XCTAssertLessThan(pressedRate, calmRate * 0.5, "the job slowed down under pressure")
        XCTAssertGreaterThan(recoveredRate, calmRate * 0.7, "and sped up again after")
        agent.stop()
    }

    struct Sample {
        var time: Double
        var bytes: [String: UInt64]
        var state: String
        var reason: String
    }

    /// Status samples every 0.5 s for `seconds`, while `condition` holds.
    private func sample(_ agent: AgentLab, seconds: Double, while condition: (AgentStatus) -> Bool) throws -> [Sample] {
        var samples: [Sample] = []
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            guard let status = agent.status(), condition(status) else { break }
            let bytes = Dictionary(status.running.map { ($0.id, $0.bytesRead) }, uniquingKeysWith: { a, _ in a })
            if samples.last?.bytes != bytes || samples.isEmpty {
                samples.append(Sample(time: status.agent.updatedAt.timeIntervalSince1970, bytes: bytes,
                                      state: status.throttle.state, reason: status.throttle.reason))
            }
            usleep(500_000)
        }
        XCTAssertGreaterThan(samples.count, 2, "the job ran throughout the sample")
        return samples
    }

    private func rate(_ samples: [Sample]) -> Double {
        guard let first = samples.first, let last = samples.last, last.time > first.time else { return 0 }
        let id = first.bytes.keys.first!
        return Double((last.bytes[id] ?? 0) - (first.bytes[id] ?? 0)) / (last.time - first.time)
    }
}

/// Busy loops on every core and a direct-I/O writer: what a neighbour's batch job does to a host.
final class Hog {
    private var processes: [Process] = []

    init(directory: URL) throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        for _ in 0..<(cores * 2) { try spawn("/bin/sh", ["-c", "while :; do :; done"]) }
        try spawn("/bin/dd", ["if=/dev/zero", "of=\(directory.appendingPathComponent("hog.bin").path)", "bs=1M", "count=100000",
                              "oflag=direct", "status=none"])
    }

    private func spawn(_ path: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        try process.run()
        processes.append(process)
    }

    func stop() {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for process in processes { process.waitUntilExit() }
        processes = []
    }

    deinit { stop() }
}
