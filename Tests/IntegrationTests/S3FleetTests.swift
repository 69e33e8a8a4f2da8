import BackupEngine
import Foundation
import XCTest

/// Several hosts writing one S3 bucket: two `vbackup` processes with their own host identity and
/// catalog back up and prune at the same time while a third runs GC over and over. No writer
/// waits for another, chunks are shared across hosts, and afterwards every point verifies and
/// the last ones restore bit-exact.
final class S3FleetTests: XCTestCase {
    var lab: Lab!
    var s3: S3Lab!

    override func setUpWithError() throws {
        lab = try Lab()
        s3 = try S3Lab(self)
    }

    override func tearDown() { lab?.cleanup() }

    /// Runs `vbackup` as `host`: its own lease identity and its own catalog, as on another machine.
    private func vbackup(_ arguments: [String], as host: String) throws -> (status: Int32, out: String, err: String) {
        let cache = lab.root.appendingPathComponent("cache-\(host)")
        return try runTool(vbackupBinary, arguments + ["--store", s3.storeURL()], environment: s3.environment.merging([
            "VBACKUP_CACHE": cache.path, "VBACKUP_HOST_NAME": host,
        ]) { $1 })
    }

    /// As a host that wrote none of it: every point verifies, and each VM's last point restores
    /// bit-exact against the reference taken with its disk held still.
    private func assertVerifiesAndRestoresOnAnotherHost(_ references: [(LabDomain, String)]) throws {
        let verify = try vbackup(["verify", "--json"], as: "host-c")
        XCTAssertEqual(verify.status, 0, "every point's every chunk is there and intact: \(verify.out) \(verify.err)")
        for (vm, reference) in references {
            let target = lab.root.appendingPathComponent("restored-\(vm.domain.name)").path
            let restore = try vbackup(["restore", "vm", vm.domain.name, "--to", target], as: "host-c")
            XCTAssertEqual(restore.status, 0, restore.err)
            XCTAssertTrue(try LabDomain.sameContent(reference, target + "/\(vm.domain.name)-vda.qcow2"),
                          "\(vm.domain.name) restores bit-exact on another host")
        }
    }

    private func backUp(_ vm: LabDomain, as host: String) throws -> [String: Any] {
        let backup = try vbackup(["backup", vm.domain.name, "--json"], as: host)
        guard backup.status == 0 else { throw RaceFailure("\(host) backup of \(vm.domain.name): \(backup.err)") }
        let reports = try JSONSerialization.jsonObject(with: Data(backup.out.utf8)) as? [[String: Any]]
        guard let point = reports?.first?["point"] as? [String: Any] else { throw RaceFailure("\(host): \(backup.out)") }
        return point
    }

    func testTwoHostsBackingUpIntoOneBucketWhileGCRunsShareChunksAndLoseNothing() throws {
        XCTAssertEqual(try vbackup(["store", "init", "--encryption", "none"], as: "host-a").status, 0)
        let a = try lab.domain([.init(target: "vda", sizeMiB: 64)])
        let b = try lab.domain([.init(target: "vda", sizeMiB: 64)])
        // The same 16 MiB "base image" on both VMs, then data of their own.
        let base = try lab.randomFile(mib: 16)
        for vm in [a, b] { try vm.write("vda", offset: 0, length: 16 * .mib, from: base) }
        try a.write("vda", offset: 32 * .mib, length: 2 * .mib, pattern: 0xA1)
        try b.write("vda", offset: 32 * .mib, length: 2 * .mib, pattern: 0xB2)

        _ = try backUp(a, as: "host-a")
        let firstOfB = try backUp(b, as: "host-b")
        let disk = try XCTUnwrap((firstOfB["disks"] as? [[String: Any]])?.first)
        XCTAssertGreaterThanOrEqual(disk["chunksReused"] as? Int ?? 0, 64,
                                    "host B reuses the base image chunks host A stored: \(disk)")
        XCTAssertLessThan(firstOfB["bytesStored"] as? Int ?? .max, 4 << 20, "host B stores only its own data")

        // The race: each host writes new data, backs up, prunes to its last two points; GC loops.
        let deadline = Date().addingTimeInterval(45)
        let failures = Failures()
        let group = DispatchGroup()
        for (host, vm, seed) in [("host-a", a, 0x10), ("host-b", b, 0x80)] {
            // Each writer thread touches only its own VM; the test case outlives the group.
            nonisolated(unsafe) let (test, vm) = (self, vm)
            DispatchQueue.global().async(group: group) {
                var round = 0
                while Date() < deadline {
                    do {
                        try vm.write("vda", offset: UInt64(20 + round % 8 * 4) * .mib, length: 3 * .mib, pattern: UInt8(seed + round % 64))
                        _ = try test.backUp(vm, as: host)
                        let prune = try test.vbackup(["prune", "--vm", vm.domain.name, "--keep-last", "2", "--json"], as: host)
                        if prune.status != 0 { throw RaceFailure("\(host) prune: \(prune.err)") }
                    } catch {
                        failures.add("\(host) round \(round): \(error)")
                    }
                    round += 1
                }
                failures.rounds(round)
            }
        }
        var gcRuns = 0, freed = 0
        while Date() < deadline {
            let gc = try vbackup(["gc", "--json"], as: "host-gc")
            if gc.status == 0, let report = try JSONSerialization.jsonObject(with: Data(gc.out.utf8)) as? [String: Any] {
                gcRuns += 1
                freed += report["packsDeleted"] as? Int ?? 0
            } else {
                XCTFail("gc failed during the race: \(gc.err)")
            }
        }
        group.wait()
        XCTAssertEqual(failures.all, [], "no writer failed or was blocked")
        XCTAssertGreaterThanOrEqual(failures.totalRounds, 6, "both hosts kept backing up")
        XCTAssertGreaterThanOrEqual(gcRuns, 3)

        // After the race: a last point per VM with a reference, GC, then everything checks.
        var references: [(LabDomain, String)] = []
        for (host, vm) in [("host-a", a), ("host-b", b)] {
            try vm.domain.suspend()
            let reference = lab.root.appendingPathComponent("\(vm.domain.name)-last.ref.qcow2").path
            try LabDomain.copyImage(try vm.diskPaths()["vda"]!, to: reference)
            _ = try backUp(vm, as: host)
            try vm.domain.resume()
            references.append((vm, reference))
        }
        let lastGC = try vbackup(["gc", "--json"], as: "host-gc")
        XCTAssertEqual(lastGC.status, 0, lastGC.err)
        freed += (try JSONSerialization.jsonObject(with: Data(lastGC.out.utf8)) as? [String: Any])?["packsDeleted"] as? Int ?? 0
        XCTAssertGreaterThan(freed, 0, "GC freed what the prunes left behind")

        try assertVerifiesAndRestoresOnAnotherHost(references)
    }

    /// The same fleet as operators run it: two `vbackup agent` processes, each with its own host
    /// identity, state, catalog and policy (one VM, keep the last 2), run their backups and
    /// retention into one bucket at the same moment, round after round, while GC loops. Every
    /// job succeeds, retention holds, and afterwards everything verifies and restores bit-exact.
    func testTwoAgentsWithTheirOwnHostIdentityShareOneBucketWhileGCRuns() throws {
        let store = s3.storeURL()
        XCTAssertEqual(try vbackup(["store", "init", "--encryption", "none"], as: "host-a").status, 0)
        let vms = try (0..<2).map { _ in try lab.domain([.init(target: "vda", sizeMiB: 48)]) }
        let base = try lab.randomFile(mib: 16)
        for vm in vms { try vm.write("vda", offset: 0, length: 16 * .mib, from: base) }
        let agents = try zip(["a", "b"], vms).map { host, vm in
            let agent = try AgentLab(lab: lab, name: "agent-\(host)", store: store,
                                     environment: s3.environment.merging(["VBACKUP_HOST_NAME": "host-\(host)"]) { $1 })
            try agent.writePolicy("fleet-\(host)", """
                version: 1
                name: fleet-\(host)
                select: {vms: ["\(vm.domain.name)"]}
                retention: {keep-last: 2}
                """)
            try agent.start()
            return agent
        }
        defer { agents.forEach { $0.cleanup() } }

        // The loop stops before the test ends.
        nonisolated(unsafe) let test = self
        let gcLoop = GCLoop { try test.vbackup(["gc", "--json"], as: "host-gc") }
        let rounds = 4
        for round in 0..<rounds {
            for (index, vm) in vms.enumerated() {
                try vm.write("vda", offset: UInt64(20 + round * 4) * .mib, length: 3 * .mib, pattern: UInt8(0x10 + index * 0x40 + round))
            }
            for (agent, host) in zip(agents, ["a", "b"]) {
                XCTAssertEqual(try agent.vbackup(["agent", "run", "--policy", "fleet-\(host)"]).status, 0)
            }
            for agent in agents {
                try agent.waitForStatus(timeout: 180) { $0.running.isEmpty && $0.queued.isEmpty && $0.recent.count == round + 1 }
            }
        }
        let gcRuns = gcLoop.stop()
        XCTAssertEqual(gcRuns.failures, [], "GC never failed beside the agents")
        XCTAssertGreaterThanOrEqual(gcRuns.count, 2)
        let jobsOf = try agents.map { try XCTUnwrap($0.status()).recent }
        let overlapping = jobsOf[0].filter { a in
            jobsOf[1].contains { b in
                guard let aStart = a.startedAt, let aEnd = a.finishedAt, let bStart = b.startedAt, let bEnd = b.finishedAt else { return false }
                return aStart < bEnd && bStart < aEnd
            }
        }
        XCTAssertGreaterThanOrEqual(overlapping.count, rounds - 1, "the two hosts' jobs ran at the same time")
        for (agent, vm) in zip(agents, vms) {
            let jobs = try XCTUnwrap(agent.status()).recent
            XCTAssertEqual(jobs.map(\.state), Array(repeating: "succeeded", count: rounds), "\(jobs.map { $0.error ?? "" })")
            XCTAssertEqual(Set(jobs.map(\.vm)), [vm.domain.name])
            let points = try vbackup(["points", "list", vm.domain.name, "--json"], as: "host-c")
            XCTAssertEqual(points.status, 0, points.err)
            let listed = try JSONSerialization.jsonObject(with: Data(points.out.utf8)) as? [[String: Any]] ?? []
            XCTAssertEqual(listed.count, 2, "each agent's retention kept its last 2 points: \(points.out)")
        }

        // A last point of each VM, taken by its agent with the disk held still, restores bit-exact.
        var references: [(LabDomain, String)] = []
        for (agent, (vm, host)) in zip(agents, zip(vms, ["a", "b"])) {
            try vm.domain.suspend()
            let reference = lab.root.appendingPathComponent("\(vm.domain.name)-last.ref.qcow2").path
            try LabDomain.copyImage(try vm.diskPaths()["vda"]!, to: reference)
            XCTAssertEqual(try agent.vbackup(["agent", "run", "--policy", "fleet-\(host)"]).status, 0)
            try agent.waitForStatus(timeout: 180) { $0.running.isEmpty && $0.queued.isEmpty && $0.recent.count == rounds + 1 }
            try vm.domain.resume()
            references.append((vm, reference))
            agent.stop()
        }
        let gc = try vbackup(["gc", "--json"], as: "host-gc")
        XCTAssertEqual(gc.status, 0, gc.err)
        try assertVerifiesAndRestoresOnAnotherHost(references)
    }
}

/// `vbackup gc` over and over on a thread of its own until stopped.
private final class GCLoop: @unchecked Sendable {
    private let lock = NSLock()
    private var running = true
    private var runs = 0
    private var failed: [String] = []
    private let done = DispatchSemaphore(value: 0)

    init(_ gc: @escaping @Sendable () throws -> (status: Int32, out: String, err: String)) {
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                let outcome = Result { try gc() }
                lock.withLock {
                    switch outcome {
                    case .success(let run) where run.status == 0: runs += 1
                    case .success(let run): failed.append(run.err)
                    case .failure(let error): failed.append("\(error)")
                    }
                }
            }
            done.signal()
        }
    }

    /// Stops after the run in progress; how many succeeded, and what the others said.
    func stop() -> (count: Int, failures: [String]) {
        lock.withLock { running = false }
        done.wait()
        return lock.withLock { (runs, failed) }
    }
}

private struct RaceFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    private var counted = 0
    func add(_ message: String) { lock.withLock { messages.append(message) } }
    func rounds(_ count: Int) { lock.withLock { counted += count } }
    var all: [String] { lock.withLock { messages } }
    var totalRounds: Int { lock.withLock { counted } }
}
