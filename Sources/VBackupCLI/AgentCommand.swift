import ArgumentParser
import Foundation
import Logging
import VBackupAgent
import VBackupPolicy

/// `vbackup agent`: the per-host job manager, and the commands that talk to it.
struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run the host agent (scheduled, throttled backups), or talk to a running one.",
        subcommands: [AgentStartCommand.self, AgentReloadCommand.self, AgentRunCommand.self, AgentEnrollCommand.self, AgentLeaveCommand.self],
        defaultSubcommand: AgentStartCommand.self)
}

/// Where the agent keeps its journal and status; shared by every agent subcommand and `status`.
struct AgentDirectoryOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "The agent's state folder: job journal, status, pid (default: $VBACKUP_AGENT_DIR, else \(AgentConfiguration.defaultStateDirectory)).",
        valueName: "path"))
    var stateDir: String?

    var url: URL {
        let path = stateDir ?? ProcessInfo.processInfo.environment["VBACKUP_AGENT_DIR"] ?? AgentConfiguration.defaultStateDirectory
        return URL(fileURLWithPath: path).standardizedFileURL
    }
}

struct AgentStartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Run the agent in the foreground (a service manager supervises it; SIGHUP reloads, SIGTERM stops).",
        discussion: "A systemd unit ships in the repository: Sources/VBackupAgent/vbackup-agent.service.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var directory: AgentDirectoryOptions
    @Option(name: .long, help: ArgumentHelp(
        "Folder of policy files (default: $VBACKUP_POLICIES, else \(AgentConfiguration.defaultPoliciesDirectory)).", valueName: "path"))
    var policies: String?
    @Option(name: .long, help: ArgumentHelp("Serve /metrics and /status on this address, or 'off'.", valueName: "host:port"))
    var metrics = "127.0.0.1:9469"
    @Option(name: .long, help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel = "info"
    @Option(name: .long, help: ArgumentHelp(
        "Manage only the VMs whose names match one of these globs (comma-separated; default: every VM).", valueName: "globs"))
    var vms: String?
    @Option(name: .long, help: ArgumentHelp("An enrolled agent asks the policy server for changes this often (± 10 %).", valueName: "seconds"))
    var pollInterval: Double = 30

    func validate() throws {
        guard pollInterval >= 1 else { throw ValidationError("--poll-interval must be at least 1 second") }
        _ = try vmGlobs()
    }

    private func vmGlobs() throws -> [Glob] {
        try (vms ?? "").split(separator: ",").map { text in
            guard let glob = Glob(validating: String(text)) else { throw ValidationError("--vms: '\(text)' is not a valid glob") }
            return glob
        }
    }

    func run() throws {
        var config = AgentConfiguration(stateDirectory: directory.url, policiesDirectory: policiesURL,
                                        openStore: { [global] location in try global.openStore(at: location) })
        config.connectURI = global.connect
        config.openCopyTarget = { [global] copy in
            try TargetStore.open(copy.target, keyFile: copy.keyFile, passphraseFile: copy.passphraseFile, cacheDirectory: global.cacheDirectory)
        }
        config.vmNames = try vmGlobs()
        config.policyPollInterval = pollInterval
        config.metricsAddress = try metricsAddress()
        config.logger = try AgentLogging.logger(level: logLevel)
        let agent = try Agent(config)
        AgentSignals.install(agent)
        try agent.run()
    }

    private var policiesURL: URL {
        let path = policies ?? ProcessInfo.processInfo.environment["VBACKUP_POLICIES"] ?? AgentConfiguration.defaultPoliciesDirectory
        return URL(fileURLWithPath: path).standardizedFileURL
    }

    private func metricsAddress() throws -> (host: String, port: Int)? {
        guard metrics != "off" else { return nil }
        guard let colon = metrics.lastIndex(of: ":"), let port = Int(metrics[metrics.index(after: colon)...]),
              (1...65535).contains(port) else {
            throw ValidationError("--metrics wants host:port (e.g. 127.0.0.1:9469) or 'off', not '\(metrics)'")
        }
        return (String(metrics[..<colon]), port)
    }
}

struct AgentReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Make the running agent re-read its policy folder now, and report what it loaded.")

    @OptionGroup var directory: AgentDirectoryOptions

    func run() throws {
        let before = try AgentStatus.read(from: directory.url).agent.policyGeneration
        try AgentControl.signal(SIGHUP, stateDirectory: directory.url)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let status = try? AgentStatus.read(from: directory.url), status.agent.policyGeneration > before {
                for policy in status.agent.policies { print("loaded \(policy.name) from \(policy.file)\(policy.keptLastGood ? " (last good version kept)" : "")") }
                for error in status.agent.policyErrors { FileHandle.standardError.write(Data("vbackup: \(error)\n".utf8)) }
                if !status.agent.policyErrors.isEmpty { throw ExitCode.failure }
                return
            }
            usleep(100_000)
        }
        throw AgentError.notRunning("the agent did not confirm the reload within 10 s")
    }
}

struct AgentRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Ask the running agent to queue backups now (outside their schedule).")

    @OptionGroup var directory: AgentDirectoryOptions
    @Option(name: .long, help: ArgumentHelp("The policy whose VMs (or the named VMs) to back up.", valueName: "name"))
    var policy: String?
    @Flag(help: "Read every disk in full.") var full = false
    @Argument(help: "VM names or UUIDs (default: every VM the policy selects).") var vms: [String] = []

    func validate() throws {
        if policy == nil && vms.isEmpty { throw ValidationError("name a --policy, VMs, or both") }
    }

    func run() throws {
        guard AgentProcess.isRunning(stateDirectory: directory.url) else {
            throw AgentError.notRunning("no agent runs with state directory \(directory.url.path)")
        }
        try JobJournal(directory: directory.url).request(policy: policy, vms: vms, full: full, at: Date())
        try? AgentControl.signal(SIGUSR1, stateDirectory: directory.url)
        print("queued; see `vbackup status`")
    }
}
