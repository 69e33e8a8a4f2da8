/// The explanation as lines of plain text, for `vbackup policy check`: the first line names the
/// policy, the others are indented by two spaces per level.
extension PolicyReport {
    public var lines: [String] {
        var lines = ["policy '\(name)' (format \(version)), priority \(priority)", "  selects: \(select.description)"]
        if schedules.isEmpty {
            lines.append("  schedule: none; the agent never starts this policy by itself")
        }
        for (index, schedule) in schedules.enumerated() {
            lines += Self.lines(for: schedule, number: index + 1)
        }
        lines.append("  retention: \(retention.summary)")
        lines.append("  store: " + (store ?? "the agent's default store"))
        lines.append("  encryption: " + Self.encryptionText[encryption, default: encryption])
        if let immutableSeconds {
            lines.append("  immutable: each point for \(Units.describe(duration: immutableSeconds)) (S3 Object Lock; prune and gc cannot remove it sooner)")
        }
        return lines + throttleLines + drillLines + copyLines
    }

    static let encryptionText = [
        "any": "any (backs up into the store whether it is encrypted or not)",
        "required": "required (refuses to back up into a store without encryption)",
        "none": "none (backs up only into a plain, unencrypted store)",
    ]

    private static func lines(for schedule: ScheduleEntry, number: Int) -> [String] {
        let mode = schedule.mode == "full" ? "full (reads every disk in full)" : "incremental (a full read only when needed)"
        let zone = schedule.hostTimezone ? " (the host's time zone)" : ""
        let next = schedule.fires.map { LocalTime.readable($0, in: schedule.zone) }
        return [
            "  schedule \(number): \(schedule.description)\(zone), \(mode)",
            "    each VM starts up to \(Units.describe(duration: schedule.jitterSeconds)) after the fire time (its own jitter) "
                + "and must finish within \(Units.describe(duration: schedule.windowSeconds)) of it",
            "    next: " + (next.isEmpty ? "none (the calendar has no later date)" : next.joined(separator: ", ")),
        ]
    }

    private var drillLines: [String] {
        guard let drill else { return ["  drill: none (the agent never drills this policy's VMs)"] }
        let zone = drill.hostTimezone ? " (the host's time zone)" : ""
        let network = drill.network == "isolated" ? "an isolated network with no route out" : "no network"
        var checks = ["running for \(Units.describe(duration: drill.settleSeconds)) after the other checks",
                      "the guest agent if the VM has one"]
        if let console = drill.console { checks.append("a console line matching \(console)") }
        if let script = drill.script { checks.append("the script \(script) exits 0") }
        let next = drill.fires.map { LocalTime.readable($0, in: drill.zone) }
        return [
            "  drill: \(drill.description)\(zone): boots each VM's newest point in a sandbox with \(network)",
            "    each VM starts up to \(Units.describe(duration: drill.jitterSeconds)) after the fire time (its own jitter) "
                + "and must start within \(Units.describe(duration: drill.windowSeconds)) of it; "
                + "it fails unless healthy within \(Units.describe(duration: drill.timeoutSeconds))",
            "    checks: " + checks.joined(separator: "; "),
            "    next: " + (next.isEmpty ? "none (the calendar has no later date)" : next.joined(separator: ", ")),
        ]
    }

    private var throttleLines: [String] {
        var settings: [String] = []
        if let rate = throttle.jobBandwidth { settings.append("job bandwidth: \(rate.text) per job") }
        if let rate = throttle.hostBandwidth { settings.append("host bandwidth: \(rate.text) shared by the host's jobs") }
        if let jobs = throttle.maxConcurrentJobs { settings.append("concurrent jobs: at most \(Self.jobs(jobs)) on the host") }
        if let cpu = throttle.cpuPercent {
            settings.append("cpu: at most \(Units.describe(percent: cpu)) of one core for the agent")
        }
        if let weight = throttle.cpuWeight { settings.append("cpu weight: \(weight) (cgroup cpu.weight; the default is 100)") }
        for limit in throttle.limits {
            let changes = [limit.hostBandwidth.map { "host bandwidth \($0.text)" }, limit.jobBandwidth.map { "job bandwidth \($0.text)" },
                           limit.maxConcurrentJobs.map { "at most \(Self.jobs($0))" }].compactMap { $0 }
            settings.append("during \(limit.description): " + changes.joined(separator: ", "))
        }
        let signals: [(String, Thresholds?, (Double) -> String)] = [
            ("cpu pressure", throttle.cpuPressurePercent, Units.describe(percent:)),
            ("io pressure", throttle.ioPressurePercent, Units.describe(percent:)),
            ("VM disk latency", throttle.vmDiskLatencySeconds, Units.describe(latency:)),
        ]
        for (signal, thresholds, describe) in signals {
            guard let thresholds else { continue }
            let pauseObject = thresholds.slow == nil ? "jobs" : "them"
            let actions = [thresholds.slow.map { "slows jobs above \(describe($0))" },
                           thresholds.pause.map { "pauses \(pauseObject) above \(describe($0))" }]
            settings.append("\(signal): " + actions.compactMap { $0 }.joined(separator: ", "))
        }
        guard !settings.isEmpty else { return ["  throttle: none (this policy adds no limit)"] }
        return ["  throttle (host-wide values combine across policies: the strictest wins):"] + settings.map { "    " + $0 }
    }

    private static func jobs(_ count: Int) -> String {
        count == 1 ? "1 job" : "\(count) jobs"
    }
}
