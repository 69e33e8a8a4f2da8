import ArgumentParser
import FleetAPI
import FleetClient
import Foundation
import LibvirtClient
import VBackupAgent
import VBackupDrill
import VBackupModel

/// `vbackup drill`: boots restore points in a sandbox and checks them (see `DrillRunner`).
struct DrillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill",
        abstract: "Prove that backups boot: restore points into an isolated sandbox, boot and check them, tear down.",
        discussion: """
            For each selected VM (one at a time) the point is restored into a sandbox on this host: a new \
            domain vbdrill-<id>-<vm> with a new UUID and new MACs, its disks in a scratch folder under \
            /var/lib/libvirt/images/vbackup-drills (qcow2 overlays over vbackup's read-only NBD export of the \
            point, or a full copy with --copy), its console logs there too, no network (or an isolated \
            libvirt network with no route out), no host devices or shared folders, graphics on 127.0.0.1 \
            only. It never touches the production VM, running or not. Checks: the domain reaches running and \
            is still running --settle seconds after the others passed; the guest agent answers guest-ping \
            (when configured); a console line matches --console-pattern (a line matching 'Kernel panic', \
            'not syncing' or 'VBGUEST CHECK FAIL' fails at once); --check-script exits 0. The check script \
            gets VBACKUP_DRILL_DOMAIN, _UUID, _VM, _POINT, _CONSOLE_LOG, _DISKS and _ID in its environment; \
            its last output line is shown. Time to running and to healthy (the RTO) are measured from the \
            start of each VM's drill. Everything is removed afterwards, also on failure, timeout or Ctrl-C, \
            unless --keep (then remove the sandbox with virsh destroy/undefine --nvram, its network with \
            virsh net-destroy, and its folder). Sandboxes left by a drill process that died are removed by \
            the next drill. Each verdict is recorded with its point in the store and, on a host enrolled \
            with a policy server (vbackup agent enroll), sent to the server too.
            Exit status: 0 when every VM passed, 2 when a drill failed, 1 when the drill could not run \
            (no VM matches, unknown point, Ctrl-C), 64 for a usage error.
            """)

    enum NetworkChoice: String, ExpressibleByArgument, CaseIterable {
        case none, isolated
    }

    @OptionGroup var global: GlobalOptions
    @OptionGroup var agentDirectory: AgentDirectoryOptions
    @Option(name: .customLong("vm"), help: ArgumentHelp("VMs to drill, by name or UUID (shell glob; repeatable; default: every VM in the store).", valueName: "glob"))
    var vms: [String] = []
    @Option(help: ArgumentHelp("Drill this point (its VM must be the only one selected).", valueName: "id")) var point: String?
    @Flag(help: "Drill each VM's newest point (the default).") var latest = false
    @Option(help: ArgumentHelp("Give up on a VM not healthy this long after its drill started.", valueName: "seconds"))
    var timeout: Double = 300
    @Option(help: ArgumentHelp("The domain must still run this long after the other checks passed.", valueName: "seconds"))
    var settle: Double = 3
    @Flag(help: "Leave the sandboxes, network and files in place for inspection.") var keep = false
    @Option(help: "none: no network interface; isolated: interfaces on a drill network with no route out.")
    var network: NetworkChoice = .none
    @Flag(help: "Restore the disks in full before the boot instead of overlaying the store's NBD export.") var copy = false
    @Option(help: ArgumentHelp("A console line matching this regular expression marks the guest healthy.", valueName: "regex"))
    var consolePattern: String?
    @Option(help: ArgumentHelp("Run this executable once the other checks pass; exit 0 passes.", valueName: "path"))
    var checkScript: String?
    @Flag(help: "Print the report as JSON.") var json = false
    @Option(help: ArgumentHelp("Also write the report as one HTML page.", valueName: "file.html")) var report: String?

    func validate() throws {
        if point != nil && latest { throw ValidationError("use --point or --latest, not both") }
        guard timeout > 0 else { throw ValidationError("--timeout must be more than 0 seconds") }
        guard settle >= 0 else { throw ValidationError("--settle cannot be negative") }
        if let consolePattern, (try? NSRegularExpression(pattern: consolePattern)) == nil {
            throw ValidationError("--console-pattern: '\(consolePattern)' is not a valid regular expression")
        }
        if let checkScript, !FileManager.default.isExecutableFile(atPath: checkScript) {
            throw ValidationError("--check-script: \(checkScript) is not an executable file")
        }
        if let report {
            let folder = URL(fileURLWithPath: report).standardizedFileURL.deletingLastPathComponent().path
            guard FileManager.default.isWritableFile(atPath: folder) else { throw ValidationError("--report: cannot write into \(folder)") }
        }
    }

    func run() throws {
        let store = try global.openStore()
        let connection = try LibvirtConnection(uri: global.connect)
        let host = (try? connection.hostname) ?? AgentEnrollCommand.localHostName
        let report = try DrillRunner(store: store, connection: connection, host: host, options: options()).run()
        if let path = self.report { try DrillHTMLReport.write(report, to: URL(fileURLWithPath: path).standardizedFileURL) }
        if json { try JSONOutput.print(report) } else { printSummary(report) }
        reportToServer(report)
        if Interruption.isRequested { throw DrillCommandError.cancelled }
        if report.outcome == .failed { throw ExitCode(2) }
    }

    private func options() -> DrillOptions {
        var options = DrillOptions()
        options.vmPatterns = vms
        options.pointID = point
        options.timeout = timeout
        options.settle = settle
        options.keep = keep
        options.network = network == .isolated ? .isolated : .none
        options.diskMode = copy ? .copy : .overlay
        options.consolePattern = consolePattern
        options.checkScript = checkScript.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        options.isCancelled = { Interruption.isRequested }
        if !json {
            options.log = { line in FileHandle.standardError.write(Data("\(line)\n".utf8)) }
        }
        return options
    }

    private func printSummary(_ report: DrillReport) {
        for vm in report.vms {
            let timing = "running \(seconds(vm.timings.running)), healthy \(seconds(vm.timings.healthy))"
            print("\(vm.outcome == .passed ? "PASSED" : "FAILED") \(vm.vm) point \(vm.pointID) (\(vm.diskMode)): \(timing)")
            if let failure = vm.failure { print("  failed in \(vm.failedStep ?? "?"): \(failure)") }
            for check in vm.checks where check.status != .skipped || vm.outcome == .passed {
                print("  \(check.kind.rawValue): \(check.status.rawValue) \(check.detail)")
            }
            for error in vm.storeErrors { print("  store error: \(error)") }
            if !vm.cleanedUp && !keep { print("  NOT cleaned up: see the failure above") }
        }
        print("drill \(report.id): \(report.outcome.rawValue)")
    }

    /// On an enrolled host the verdicts also go to the policy server, so its dashboard shows a
    /// drill run by hand as it shows the agent's. The server dedupes by report id; a server that
    /// cannot be reached costs a warning, not the drill's verdict (it is in the store already).
    private func reportToServer(_ report: DrillReport) {
        let enrollment: ServerEnrollment
        do {
            guard let enrolled = try ServerEnrollment.read(from: agentDirectory.url), !report.vms.isEmpty else { return }
            enrollment = enrolled
        } catch {
            warn("cannot read the server enrollment: \(OneLine.describe(error))")
            return
        }
        let batch = ReportBatch(reports: report.vms.map {
            AgentReport(createdAt: report.finishedAt, drill: DrillResultReport($0, of: report, jobID: nil))
        })
        do {
            let client = try enrollment.client()
            _ = try FleetClient.blocking { try await client.sendReports(batch) }
            if !json { print("reported to \(enrollment.server)") }
        } catch {
            warn("the verdict did not reach \(enrollment.server): \(OneLine.describe(error))")
        }
    }

    private func warn(_ line: String) {
        FileHandle.standardError.write(Data("vbackup: warning: \(line)\n".utf8))
    }

    private func seconds(_ value: Double?) -> String { value.map { String(format: "%.1f s", $0) } ?? "-" }
}

enum DrillCommandError: Error, CustomStringConvertible {
    case cancelled

    var description: String { "drill cancelled (what it made was removed)" }
}
