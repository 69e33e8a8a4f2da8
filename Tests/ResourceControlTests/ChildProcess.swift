import Foundation

/// A helper process started by a test (a busy loop, a sleeper), its /proc figures, and its end:
/// killed by its own pid when dropped.
final class ChildProcess {
    private let process = Process()

    init(_ script: String) throws {
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }

    var pid: Int32 { process.processIdentifier }

    /// Fields of /proc/PID/stat after the command name, so index 0 is field 3 (state).
    private var statFields: [Substring] {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        guard let close = stat.lastIndex(of: ")") else { return [] }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// utime + stime in seconds.
    var cpuSeconds: Double {
        let fields = statFields
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    var nice: Int? {
        let fields = statFields
        return fields.count > 16 ? Int(fields[16]) : nil
    }

    /// The /proc/PID/cgroup line for a v1 controller, e.g. "1:cpu:/vbackup-test".
    func cgroupLine(_ controller: String) -> String? {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init).first { $0.split(separator: ":")[1].split(separator: ",").contains(Substring(controller)) }
    }

    /// The share of one core the process used over `seconds` of wall time, in percent.
    func cpuPercent(over seconds: Double) -> Double {
        let startCPU = cpuSeconds
        let start = Date()
        Thread.sleep(forTimeInterval: seconds)
        return (cpuSeconds - startCPU) / Date().timeIntervalSince(start) * 100
    }
}
