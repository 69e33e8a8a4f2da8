import Foundation
import LocalStorage
import VBackupAgent
import VBackupStore
import XCTest

/// A host agent under test: its own policy folder and state folder beside a `Lab` (VMs and a
/// store), run either in this process (with a clock the test moves) or as a real `vbackup
/// agent` process (killed, restarted and signalled like in production).
final class AgentLab {
    let lab: Lab
    let policies: URL
    let state: URL
    /// What the process is started with: the lab's store unless another one is named, and the
    /// environment it adds (a host identity, S3 keys).
    private let store: String?
    private let environment: [String: String]
    private let name: String
    private(set) var process: Process?
    private var logHandle: FileHandle?

    /// `name` other than "agent" gives a second agent in the same lab folders of its own, as if
    /// on another host (with `VBACKUP_HOST_NAME` in `environment`).
    init(lab: Lab, name: String = "agent", store: String? = nil, environment: [String: String] = [:]) throws {
        self.lab = lab
        self.name = name
        self.store = store
        self.environment = environment
        policies = lab.root.appendingPathComponent(name == "agent" ? "policies" : "\(name)-policies")
        state = lab.root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
    }

    var log: URL { lab.root.appendingPathComponent("\(name).log") }

    func writePolicy(_ name: String, _ yaml: String) throws {
        try Data(yaml.utf8).write(to: policies.appendingPathComponent("\(name).yaml"))
    }

    /// Random data that neither compresses nor deduplicates, for QEMU to write into disks.
    func randomFile(mib: Int) throws -> String { try lab.randomFile(mib: mib) }

    // MARK: In process

    func configuration(clock: any AgentClock) -> AgentConfiguration {
        let storePath = lab.storePath, cache = lab.root.appendingPathComponent("agent-cache")
        var config = AgentConfiguration(stateDirectory: state, policiesDirectory: policies) { _ in
            try Store.open(adapter: LocalStorageAdapter(root: storePath, create: false), cacheDirectory: cache)
        }
        config.clock = clock
        config.controlsCPU = false
        config.workersPerJob = 2
        config.logger.logLevel = .warning
        return config
    }

    // MARK: As a process

    func start(metrics: String = "off", arguments extra: [String] = []) throws {
        let (process, handle) = try startVbackup(
            ["agent", "start", "--state-dir", state.path, "--policies", policies.path,
             "--store", store ?? lab.storePath.path, "--metrics", metrics] + extra,
            log: log, environment: environment.merging(["VBACKUP_CACHE": lab.root.appendingPathComponent("\(name)-cache").path]) { $1 })
        try? logHandle?.close()
        self.process = process
        logHandle = handle
        _ = try waitForStatus(timeout: 30) { $0.agent.pid == process.processIdentifier }
    }

    func kill(signal: Int32 = SIGKILL) {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
        self.process = nil
    }

    func stop() { kill(signal: SIGTERM) }

    func vbackup(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runTool(vbackupBinary, arguments + ["--state-dir", state.path], environment: environment)
    }

    func status() -> AgentStatus? { try? AgentStatus.read(from: state) }

    /// Polls the status document until `condition` holds.
    @discardableResult
    func waitForStatus(timeout: TimeInterval, _ condition: (AgentStatus) -> Bool) throws -> AgentStatus {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = status(), condition(status) { return status }
            usleep(200_000)
        }
        let last = (try? String(contentsOf: log, encoding: .utf8)).map { String($0.suffix(3000)) } ?? ""
        throw AgentLabError.timeout(last)
    }

    func cleanup() {
        kill()
        try? logHandle?.close()
    }
}

enum AgentLabError: Error, CustomStringConvertible {
    case timeout(String)
    var description: String {
        switch self {
        case .timeout(let log): return "timed out waiting for the agent; log tail:\n\(log)"
        }
    }
}
