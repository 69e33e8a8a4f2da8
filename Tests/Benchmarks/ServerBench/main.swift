import AsyncHTTPClient
import FleetAPI
import Foundation
import NIOCore
import NIOFoundationCompat

/// Load on the policy server from simulated agents: `vbackup-serverbench --server URL
/// --admin-token-file F --policy FILE [--agents 1000] [--duration 60] [--poll-interval 30]
/// [--report-interval 60] [--server-pid PID] [--label NAME]`.
///
/// Each simulated agent is an enrolled host with its own credential that polls for its policy
/// with its last etag and posts job reports (and every fifth time its inventory), like the
/// real agent. Half way through, the policy is changed, and the time until every agent has
/// the new version is reported. Prints one table per run; latency is measured at the client.
struct Options {
    var server = "http://127.0.0.1:8443"
    var adminTokenFile = ""
    var policyFile = "policies/nightly.yaml"
    var agents = 1000
    var duration = 60.0
    var pollInterval = 30.0
    var reportInterval = 60.0
    var serverPID: Int32?
    var label = "server"
    /// A static peer (nginx serving a bundle file, answering reports with a fixed receipt):
    /// no admin calls, no enrollment, no policy change; the same polling and posting.
    var peer = false

    init(_ arguments: [String]) {
        var i = 1
        func value() -> String {
            i += 1
            guard i < arguments.count else { fatalError("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--server": server = value()
            case "--admin-token-file": adminTokenFile = value()
            case "--policy": policyFile = value()
            case "--agents": agents = Int(value())!
            case "--duration": duration = Double(value())!
            case "--poll-interval": pollInterval = Double(value())!
            case "--report-interval": reportInterval = Double(value())!
            case "--server-pid": serverPID = Int32(value())!
            case "--label": label = value()
            case "--peer": peer = true
            default: fatalError("unknown option \(arguments[i])")
            }
            i += 1
        }
    }
}

/// CPU seconds and resident memory of a process, from /proc.
func processUsage(_ pid: Int32) -> (cpuSeconds: Double, rssMiB: Double)? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
    let rssKiB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        .flatMap { Double($0.split(separator: " ")[1]) } ?? 0
    return (ticks / Double(sysconf(Int32(_SC_CLK_TCK))), rssKiB / 1024)
}

func ms(_ seconds: Double) -> String { String(format: "%.1f", seconds * 1000) }

let options = Options(CommandLine.arguments)
let adminToken = options.peer ? ""
    : try String(contentsOfFile: options.adminTokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
let policyText = try String(contentsOfFile: options.policyFile, encoding: .utf8)
let policyName = policyText.split(separator: "\n").first { $0.hasPrefix("name:") }
    .map { $0.dropFirst(5).split(separator: "#")[0].trimmingCharacters(in: .whitespaces) } ?? "nightly"

var configuration = HTTPClient.Configuration()
// Every agent is its own host with its own connection; don't queue them behind a small pool.
configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = options.agents
let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
let log = LatencyLog()
let admin = Admin(server: options.server, token: adminToken, client: client)

do {
    var credentials = (0..<options.agents).map { "vbh_peer\($0)" }
    var enrollRow: LatencyLog.Row?
    var enrollSeconds = 0.0
    if !options.peer {
        _ = try await admin.apply(policyYAML: policyText, name: policyName)
        let enrollStarted = Date()
        credentials = try await admin.enroll(count: options.agents, parallel: 32, run: String(UUID().uuidString.prefix(6)).lowercased(),
                                             log: log)
        enrollSeconds = Date().timeIntervalSince(enrollStarted)
        enrollRow = log.rows(over: enrollSeconds).first { $0.kind == "enroll" }
        log.reset()
    }

    let board = EtagBoard()
    let before = options.serverPID.flatMap(processUsage)
    let started = Date()
    let deadline = started + options.duration
    // Half way: a new version of the policy, which every agent must pick up on its next poll.
    let change = Task {
        try await Task.sleep(nanoseconds: UInt64(options.duration / 2 * 1e9))
        if options.peer { return Date.distantFuture }
        let changedAt = Date()
        _ = try await admin.apply(policyYAML: policyText + "\n# changed by the benchmark \(changedAt)\n", name: policyName)
        return changedAt
    }
    await withTaskGroup(of: Void.self) { group in
        for (index, credential) in credentials.enumerated() {
            let agent = SimulatedAgent(index: index, credential: credential, server: options.server, client: client, log: log, etags: board)
            group.addTask { await agent.run(until: deadline, pollInterval: options.pollInterval, reportInterval: options.reportInterval) }
        }
    }
    let elapsed = Date().timeIntervalSince(started)
    let after = options.serverPID.flatMap(processUsage)
    let changedAt = try await change.value

    print("== \(options.label): \(options.agents) agents, \(Int(options.duration)) s, poll every \(Int(options.pollInterval)) s, report every \(Int(options.reportInterval)) s")
    if let enrollRow {
        print("enroll: \(enrollRow.count) hosts in \(String(format: "%.1f", enrollSeconds)) s, p50 \(ms(enrollRow.p50)) ms, p99 \(ms(enrollRow.p99)) ms")
    }
    func line(_ first: String, _ cells: [String]) -> String {
        first.padding(toLength: 26, withPad: " ", startingAt: 0)
            + cells.map { String(repeating: " ", count: max(0, 8 - $0.count)) + $0 }.joined()
    }
    print(line("request", ["count", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "failed"]))
    var allOK = true
    for row in log.rows(over: elapsed) {
        let cells = [String(row.count), String(format: "%.1f", row.perSecond), ms(row.p50), ms(row.p90), ms(row.p99),
                     ms(row.max), String(row.failed)]
        print(line(row.kind, cells))
        if let why = row.firstFailure {
            allOK = false
            print("  first failure: \(why)")
        }
    }
    // Propagation: from the change to the moment the last agent had the new bundle.
    if !options.peer {
        let reached = board.changes().map { $0.timeIntervalSince(changedAt) }.sorted()
        print(String(format: "policy change at %.0f s reached %d of %d agents; the last after %.1f s (poll interval %.0f s)",
                     changedAt.timeIntervalSince(started), reached.count, options.agents, reached.last ?? .nan, options.pollInterval))
        if reached.count < options.agents { allOK = false }
    }
    if let before, let after {
        let cpu = (after.cpuSeconds - before.cpuSeconds) / elapsed * 100
        print(String(format: "server: %.0f %% of a core on average, %.0f MiB resident at the end", cpu, after.rssMiB))
    }
    try? await client.shutdown().get()
    exit(allOK ? 0 : 1)
} catch {
    FileHandle.standardError.write("serverbench: \(error)\n".data(using: .utf8)!)
    try? await client.shutdown().get()
    exit(1)
}
