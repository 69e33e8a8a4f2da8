import ArgumentParser
import Foundation
import VBackupAgent

/// `vbackup status`: what the host agent is doing now, at a glance.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the host agent is doing: queue, running jobs, throttle state and why.",
        discussion: "Exit status 0 while the agent runs, 1 when it does not (the last status it wrote is still shown).")

    @OptionGroup var directory: AgentDirectoryOptions
    @Flag(help: "Print JSON (the agent's status document, plus agent.alive).") var json = false

    func run() throws {
        var status = try AgentStatus.read(from: directory.url)
        let alive = AgentProcess.isRunning(stateDirectory: directory.url)
        status.agent.alive = alive
        if json { try JSONOutput.print(status) } else { print(StatusText(status: status, now: Date()).render()) }
        if !alive { throw ExitCode.failure }
    }
}

/// The status document for people.
struct StatusText {
    var status: AgentStatus
    var now: Date

    func render() -> String {
        [header(), server(), throttle(), running(), queued(), recent(), upcoming()].filter { !$0.isEmpty }.joined(separator: "\n\n")
    }

    private func header() -> String {
        let agent = status.agent
        var lines: [String] = []
        if agent.alive == false {
            lines.append("AGENT NOT RUNNING — last status written \(Human.date(agent.updatedAt)) by pid \(agent.pid)")
        } else {
            lines.append("agent pid \(agent.pid) on \(agent.host), up \(Self.duration(now.timeIntervalSince(agent.startedAt))), \(agent.vms) VMs, libvirt \(agent.libvirt)")
        }
        let names = agent.policies.map { $0.name + ($0.keptLastGood ? " (last good version)" : "") }
        lines.append("policies: \(names.isEmpty ? "none" : names.joined(separator: ", ")) from \(agent.policiesDirectory)")
        lines += agent.policyErrors.map { "  ! \($0)" }
        lines += agent.policyOverlaps.map { "  ~ \($0)" }
        lines.append("cpu: \(agent.cpuControl)")
        return lines.joined(separator: "\n")
    }

    private func throttle() -> String {
        let t = status.throttle
        var lines = ["throttle: \(t.state) (factor \(String(format: "%.2f", t.factor))) — \(t.reason)"]
        let limit = t.hostLimit.map { Human.bytes($0) + "/s" + (t.hostLimitSetBy.map { " (\($0))" } ?? "") } ?? "none"
        let effective = t.effectiveHostLimit.map { ", now \(Human.bytes(UInt64($0)))/s" } ?? ""
        lines.append("  host bandwidth limit \(limit)\(effective); reading \(Human.bytes(UInt64(t.hostRate)))/s; at most \(t.maxConcurrentJobs) jobs\(t.maxConcurrentJobsSetBy.map { " (\($0))" } ?? "")")
        let s = t.signals
        let parts = [s.cpuPressure.map { "cpu pressure \(Self.percent($0))" }, s.ioPressure.map { "io pressure \(Self.percent($0))" },
                     s.vmDiskLatencyMs.map { String(format: "worst VM disk latency %.1f ms", $0) + (s.vmDiskLatencyVM.map { " (\($0))" } ?? "") }]
        lines.append("  " + (parts.compactMap { $0 }.joined(separator: ", ").nonEmpty ?? "no pressure signals on this host"))
        return lines.joined(separator: "\n")
    }

    private func running() -> String {
        guard !status.running.isEmpty else { return "running: nothing" }
        let rows = status.running.map { job -> [String] in
            let percent = job.bytesTotal > 0 ? String(format: "%.0f%%", Double(job.bytesDone) * 100 / Double(job.bytesTotal)) : "-"
            var window = job.windowEnd.map { "until \(Human.date($0))" } ?? "no window"
            if job.overran { window += " — PAST ITS WINDOW" } else if job.willOverrun { window += " — will overrun at this rate" }
            return [Self.job(job.vm, kind: job.kind), job.policy, (job.disk ?? "-") + " " + percent, Human.bytes(job.bytesRead),
                    Human.bytes(UInt64(job.rate)) + "/s", job.limit.map { Human.bytes($0) + "/s" } ?? "-",
                    Human.date(job.startedAt), window]
        }
        return "running (\(rows.count)):\n" + Self.indent(Human.table(["VM", "POLICY", "PROGRESS", "READ", "RATE", "LIMIT", "STARTED", "WINDOW"], rows))
    }

    private func queued() -> String {
        guard !status.queued.isEmpty else { return "" }
        let rows = status.queued.map { [Self.job($0.vm, kind: $0.kind), $0.policy, "\($0.priority)", $0.trigger, Human.date($0.queuedAt), $0.windowEnd.map(Human.date) ?? "-"] }
        return "queued (\(rows.count)):\n" + Self.indent(Human.table(["VM", "POLICY", "PRIORITY", "TRIGGER", "QUEUED", "WINDOW ENDS"], rows))
    }

    private func recent() -> String {
        guard !status.recent.isEmpty else { return "" }
        let rows = status.recent.prefix(10).map { job -> [String] in
            [job.finishedAt.map(Human.date) ?? "-", Self.job(job.vm, kind: job.kind), job.policy, job.state + (job.overran ? " (overran)" : ""),
             job.point ?? "-", Human.bytes(UInt64(max(0, job.bytesRead))), job.error ?? ""]
        }
        return "recent:\n" + Self.indent(Human.table(["FINISHED", "VM", "POLICY", "RESULT", "POINT", "READ", "NOTE"], Array(rows)))
    }

    private func upcoming() -> String {
        guard !status.next.isEmpty else { return "next: nothing scheduled" }
        let rows = status.next.map { [Human.date($0.at), Self.job($0.vm, kind: $0.kind), $0.policy] }
        return "next:\n" + Self.indent(Human.table(["AT", "VM", "POLICY"], rows))
    }

    /// A job's VM, marked when the job is a drill: "web1 (drill)".
    private static func job(_ vm: String, kind: String?) -> String {
        kind == "drill" ? "\(vm) (drill)" : vm
    }

    private static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
    }

    private static func percent(_ value: Double) -> String { String(format: "%.0f%%", value) }

    static func duration(_ seconds: TimeInterval) -> String {
        let total = Int(max(0, seconds))
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m \(total % 60)s" }
        return "\(total / 3600)h \(total % 3600 / 60)m"
    }
}

private extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
