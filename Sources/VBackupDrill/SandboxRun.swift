import Foundation
import LibvirtClient
import VBackupModel
import VBackupStore

/// One VM's drill, start to end: its point's disks into the scratch folder, the sandbox defined
/// and booted, the checks, and the teardown, which runs whatever happened before it (a failure,
/// the timeout, Ctrl-C) unless `keep` is set. Never throws: every failure is in the result.
final class SandboxRun {
    /// What every VM's drill in one run shares.
    struct Context {
        var store: Store
        var connection: LibvirtConnection
        var host: String
        var options: DrillOptions
        var identity: DrillIdentity
        var owner: ProcessIdentity
        /// `<scratch parent>/<drill id>/`.
        var folder: URL
    }

    /// Ends the drill of this VM in `step`, with a one-line reason.
    struct StepFailure: Error {
        var step: String
        var message: String
    }

    let context: Context
    let point: PointManifest
    let sandboxName: String
    let vmFolder: URL
    let networkName: String?
    /// The NBD export's socket (overlay mode).
    let socketPath: String
    private var options: DrillOptions { context.options }
    private let clock = Stopwatch()
    private let deadline: ContinuousClock.Instant
    private var checks = CheckBoard()
    private var timings = DrillTimings()
    private var disks: SandboxDisks?
    private var domain: LibvirtDomain?
    private var network: LibvirtNetwork?
    private var console: ConsoleLog?
    private var storeErrors: [String] = []
    private let patterns: ConsolePatterns

    init(context: Context, point: PointManifest, index: Int, patterns: ConsolePatterns) {
        self.context = context
        self.point = point
        self.patterns = patterns
        sandboxName = context.identity.sandboxName(vm: point.vmName)
        vmFolder = context.folder.appendingPathComponent(sandboxName, isDirectory: true)
        networkName = context.options.network == .isolated ? context.identity.networkName(vmIndex: index) : nil
        socketPath = context.folder.appendingPathComponent("nbd\(index).sock").path
        deadline = clock.instant(after: context.options.timeout)
    }

    func run() -> DrillVMResult {
        var failure: StepFailure?
        do {
            try provisionDisks()
            let sandbox = try defineSandbox()
            try boot()
            try check(sandbox)
        } catch let stop as StepFailure {
            failure = stop
        } catch {
            failure = StepFailure(step: "checks", message: "\(error)")
        }
        if failure != nil, checks.isPending(.running), let running = timings.running, (try? domain?.runState()) == .running {
            checks.pass(.running, "reached running at \(format(running)) and still ran when the drill stopped at \(format(clock.seconds))",
                        at: Stopwatch.rounded(clock.seconds))
        }
        storeErrors += disks?.storeErrors ?? []
        if failure == nil, let first = storeErrors.first {
            failure = StepFailure(step: "checks", message: "the store could not serve what the guest read: \(first)")
        }
        let consoleTail = console?.tailForReport ?? []
        let teardownFailure = teardown()
        if failure == nil, let teardownFailure { failure = StepFailure(step: "teardown", message: teardownFailure) }
        let outcome: DrillOutcome = failure == nil ? .passed : .failed
        log(outcome == .passed
            ? "PASSED: running at \(format(timings.running)), healthy at \(format(timings.healthy))"
            : "FAILED in \(failure!.step): \(failure!.message)")
        return DrillVMResult(
            vm: point.vmName, vmUUID: point.vmUUID, pointID: point.id, pointCreatedAt: point.createdAt, sandboxName: sandboxName,
            outcome: outcome, failure: failure?.message, failedStep: failure?.step, diskMode: (disks?.mode ?? options.diskMode).rawValue,
            timings: timings, checks: checks.final(pendingReason: failure?.message ?? "not needed"), consoleTail: consoleTail,
            storeErrors: storeErrors, cleanedUp: !options.keep && teardownFailure == nil)
    }

    // MARK: steps

    private func provisionDisks() throws {
        log("restoring point \(point.id) (\(options.diskMode.rawValue))")
        do {
            try FileManager.default.createDirectory(at: vmFolder, withIntermediateDirectories: true)
            let stop: @Sendable () -> Bool = { [options, deadline] in options.isCancelled() || ContinuousClock.now >= deadline }
            disks = try DiskProvisioner.disks(for: point, mode: options.diskMode, store: context.store, folder: vmFolder,
                                              socketPath: socketPath, isCancelled: stop)
            try restoreNVRAM()
        } catch {
            if StoreError.isStoreFailure(error) { storeErrors.append("\(error)") }
            throw StepFailure(step: "restore", message: stopReason() ?? "\(error)")
        }
        timings.disksReady = Stopwatch.rounded(clock.seconds)
        log("disks ready at \(format(timings.disksReady))")
    }

    private func restoreNVRAM() throws {
        guard let key = point.nvramKey else { return }
        try context.store.readPointObject(key: key).write(to: vmFolder.appendingPathComponent("nvram.fd"))
    }

    private func defineSandbox() throws -> SandboxDomain.Result {
        do {
            if let networkName {
                network = try SandboxNetwork.create(name: networkName, marker: marker, connection: context.connection)
            }
            let sandbox = try SandboxDomain(
                name: sandboxName, disks: disks?.images ?? [:], folder: vmFolder,
                network: networkName.map { .isolated(name: $0) } ?? .none, marker: marker,
                description: "vbackup drill \(context.identity.id): VM \(point.vmName), point \(point.id)"
            ).make(from: point.domainXML)
            domain = try context.connection.defineDomain(xml: sandbox.xml)
            if let log = sandbox.consoleLog { console = ConsoleLog(path: log) }
            log("defined \(sandboxName)")
            return sandbox
        } catch {
            throw StepFailure(step: "define", message: "\(error)")
        }
    }

    private func boot() throws {
        guard let domain else { return }
        do {
            try domain.start()
            while try domain.runState() != .running {
                if let reason = stopReason() { throw StepFailure(step: "boot", message: reason) }
                usleep(20_000)
            }
        } catch let failure as StepFailure {
            checks.fail(.running, failure.message, at: clock.seconds)
            throw failure
        } catch {
            checks.fail(.running, "did not start: \(error)", at: clock.seconds)
            throw StepFailure(step: "boot", message: "did not start: \(error)")
        }
        timings.running = Stopwatch.rounded(clock.seconds)
        log("running at \(format(timings.running))")
    }

    private func check(_ sandbox: SandboxDomain.Result) throws {
        prepareChecks(sandbox)
        try awaitConsoleAndAgent()
        try runScript(sandbox)
        let healthyAt = clock.seconds
        let settleEnd = ContinuousClock.now + .milliseconds(Int64(options.settle * 1000))
        while ContinuousClock.now < settleEnd {
            try watch()
            if let reason = stopReason(ignoringTimeout: true) { throw StepFailure(step: "checks", message: reason) }
            usleep(100_000)
        }
        checks.pass(.running, "running at \(format(timings.running)); still running \(format(options.settle)) after the checks passed",
                    at: Stopwatch.rounded(clock.seconds))
        timings.healthy = Stopwatch.rounded(healthyAt)
    }

    // MARK: checks

    private func prepareChecks(_ sandbox: SandboxDomain.Result) {
        if !options.guestAgent {
            checks.skip(.guestAgent, "disabled")
        } else if !sandbox.hasGuestAgent {
            checks.skip(.guestAgent, "no \(SandboxDomain.guestAgentChannel) channel in the domain XML")
        }
        if patterns.success == nil {
            checks.skip(.console, console == nil ? "no serial console" : "no console pattern given (failure lines still fail it)")
        } else if console == nil {
            checks.fail(.console, "the VM has no serial port whose output could be watched", at: clock.seconds)
        }
        if options.checkScript == nil { checks.skip(.script, "no check script given") }
    }

    private func awaitConsoleAndAgent() throws {
        if checks.status(.console) == .failed {
            throw StepFailure(step: "checks", message: "console: the VM has no serial port whose output could be watched")
        }
        var lastPing: ContinuousClock.Instant?
        var agentError = "no answer yet"
        while checks.isPending(.console) || checks.isPending(.guestAgent) {
            try watch()
            if checks.isPending(.guestAgent), lastPing.map({ ContinuousClock.now - $0 >= .seconds(1) }) ?? true, let domain {
                lastPing = .now
                do {
                    _ = try domain.guestAgentCommand(#"{"execute":"guest-ping"}"#, timeoutSeconds: 2)
                    checks.pass(.guestAgent, "guest-ping answered", at: Stopwatch.rounded(clock.seconds))
                    log("guest agent answered at \(format(clock.seconds))")
                } catch {
                    agentError = (error as? LibvirtError)?.message ?? "\(error)"
                }
            }
            if let reason = stopReason() {
                if checks.isPending(.guestAgent) { checks.fail(.guestAgent, "\(reason); last error: \(agentError)", at: clock.seconds) }
                if checks.isPending(.console) { checks.fail(.console, "\(reason); no line matched \(patterns.successText)", at: clock.seconds) }
                throw StepFailure(step: "checks", message: reason)
            }
            usleep(100_000)
        }
    }

    private func runScript(_ sandbox: SandboxDomain.Result) throws {
        guard let script = options.checkScript, let domain else { return }
        log("running the check script \(script)")
        let output = vmFolder.appendingPathComponent("check-script.log").path
        let environment = [
            "VBACKUP_DRILL_DOMAIN": sandboxName, "VBACKUP_DRILL_UUID": domain.uuid, "VBACKUP_DRILL_VM": point.vmName,
            "VBACKUP_DRILL_POINT": point.id, "VBACKUP_DRILL_CONSOLE_LOG": sandbox.consoleLog ?? "",
            "VBACKUP_DRILL_DISKS": (disks?.images ?? [:]).sorted { $0.key < $1.key }.map(\.value.path).joined(separator: " "),
            "VBACKUP_DRILL_ID": context.identity.id,
        ]
        var watchFailure: Error?
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess(executable: script, environment: environment, outputFile: output).run(deadline: deadline) {
                do { try watch() } catch { watchFailure = error }
                return watchFailure != nil || options.isCancelled()
            }
        } catch {
            checks.fail(.script, "\(error)", at: clock.seconds)
            throw StepFailure(step: "checks", message: "script: \(error)")
        }
        if let watchFailure { throw watchFailure }
        if let reason = stopReason() {
            checks.fail(.script, "stopped: \(reason)", at: clock.seconds)
            throw StepFailure(step: "checks", message: reason)
        }
        let last = ChildProcess.lastLine(of: output)
        if outcome.status == 0 {
            checks.pass(.script, last.isEmpty ? "exit 0" : last, at: Stopwatch.rounded(clock.seconds))
        } else {
            let detail = "exit \(outcome.status)" + (last.isEmpty ? "" : ": \(last)")
            checks.fail(.script, detail, at: Stopwatch.rounded(clock.seconds))
            throw StepFailure(step: "checks", message: "script: \(detail)")
        }
    }

    /// Polls the domain's state and the new console lines: fails `running` when the domain
    /// stopped, `console` on a failure line (even after it passed), and passes `console` on
    /// the first line matching the pattern.
    private func watch() throws {
        guard let domain else { return }
        let state = (try? domain.runState()) ?? .other(-1)
        let now = Stopwatch.rounded(clock.seconds)
        for line in console?.poll() ?? [] {
            if let pattern = patterns.failure(in: line) {
                checks.overrule(.console, "failure line (\(pattern)): \(line)", at: now)
                throw StepFailure(step: "checks", message: "console: \(line)")
            }
            if checks.isPending(.console), patterns.matchesSuccess(line) {
                checks.pass(.console, line, at: now)
                log("console matched at \(format(now)): \(line)")
            }
        }
        if let error = disks?.storeErrors.first {
            throw StepFailure(step: "checks", message: "the store could not serve what the guest read: \(error)")
        }
        if state != .running {
            let detail = "the domain is \(Self.describe(state)) at \(format(now)), before it was healthy"
            checks.overrule(.running, detail, at: now)
            throw StepFailure(step: "checks", message: detail)
        }
    }

    /// Why the drill must stop now: cancelled, or past its timeout.
    private func stopReason(ignoringTimeout: Bool = false) -> String? {
        if options.isCancelled() { return DrillError.cancelled.description }
        if !ignoringTimeout && ContinuousClock.now >= deadline {
            let waiting = CheckBoard.order.filter { checks.isPending($0) && $0 != .running }.map(\.rawValue)
            return DrillError.timedOut(seconds: options.timeout, waitingFor: waiting.isEmpty ? "the domain" : waiting.joined(separator: ", ")).description
        }
        return nil
    }

    // MARK: teardown

    /// Removes everything this VM's drill made; returns what could not be removed, if anything.
    private func teardown() -> String? {
        guard !options.keep else {
            log("kept for inspection: domain \(sandboxName), folder \(vmFolder.path)\(networkName.map { ", network \($0)" } ?? "")")
            disks?.stop()
            return nil
        }
        let started = ContinuousClock.now
        let problems = SandboxTeardown(connection: context.connection).remove(
            domain: domain, network: network, disks: disks, folder: vmFolder)
        timings.teardown = Stopwatch.rounded(Stopwatch.seconds(ContinuousClock.now - started))
        if problems.isEmpty { log("removed the sandbox in \(format(timings.teardown))") }
        return problems.isEmpty ? nil : "left behind: " + problems.joined(separator: "; ")
    }

    // MARK: helpers

    private var marker: SandboxMarker {
        SandboxMarker(drillID: context.identity.id, vm: point.vmName, pointID: point.id, host: context.host,
                      owner: context.owner, folder: vmFolder.path, kept: options.keep)
    }

    private func log(_ message: String) { options.log("\(point.vmName): \(message)") }

    private func format(_ seconds: Double?) -> String { seconds.map { String(format: "%.1f s", $0) } ?? "-" }

    private static func describe(_ state: DomainRunState) -> String {
        switch state {
        case .running: return "running"
        case .paused: return "paused"
        case .shutoff: return "shut off"
        case .other(let code): return code < 0 ? "gone" : "in state \(code)"
        }
    }
}
