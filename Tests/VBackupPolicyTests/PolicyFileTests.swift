import Foundation
import Testing
import VBackupPolicy

@Suite("Policy files")
struct PolicyFileTests {
    /// The repository's `policies/` folder.
    static let policiesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("policies")

    static var exampleFiles: [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: policiesDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            .map { policiesDirectory.appendingPathComponent($0) }
    }

    @Test("policies/ holds the example policy files")
    func examplesExist() {
        let names = Self.exampleFiles.map(\.lastPathComponent)
        #expect(names.contains("nightly.yaml") && names.contains("critical-hourly.yaml") && names.contains("weekly-full.yaml"),
                "looked in \(Self.policiesDirectory.path)")
        let drilled = Self.exampleFiles.filter { (try? Policy.load(path: $0.path))?.drill != nil }.map(\.lastPathComponent)
        #expect(drilled == ["weekly-full.yaml"], "one example shows a drill section")
    }

    @Test("every file in policies/ is valid and keeps something", arguments: exampleFiles)
    func examplesParse(_ file: URL) throws {
        let policy = try Policy.load(path: file.path)
        #expect(policy.name == file.deletingPathExtension().lastPathComponent, "file named after its policy")
        #expect(policy.retention.keepsSomething, "\(file.lastPathComponent) would refuse to prune")
        #expect(!policy.schedules.isEmpty, "every example shows a schedule")
    }

    @Test("the folder loads as one set without errors, and each VM gets the policy its examples intend")
    func examplesWorkTogether() throws {
        let set = PolicySet.load(directory: Self.policiesDirectory.path)
        #expect(set.errors.isEmpty, "\(set.errors.map(\.description))")
        let chosen = { (vm: VMFacts) in set.policy(for: vm)?.name }
        #expect(chosen(VMFacts(name: "web1", uuid: "u1", host: "hv-1")) == "nightly")
        #expect(chosen(VMFacts(name: "web1", uuid: "u1", tags: ["critical"], host: "hv-1")) == "critical-hourly")
        #expect(chosen(VMFacts(name: "db1", uuid: "u2", host: "hv-1")) == "weekly-full")
        #expect(chosen(VMFacts(name: "test-7", uuid: "u3", host: "lab-2")) == "lab")
        #expect(chosen(VMFacts(name: "test-7", uuid: "u3", host: "hv-1")) == "nightly", "lab covers lab hosts only")
        #expect(chosen(VMFacts(name: "build-scratch", uuid: "u4", host: "hv-1")) == nil, "scratch VMs are excluded")
        let lab = VMFacts(name: "test-7", uuid: "u3", host: "lab-2")
        #expect(set.conflicts(for: lab).map(\.name) == ["nightly"], "nightly also selects it and is reported")
    }

    @Test("the full format parses into its values")
    func fullFormat() throws {
        let text = """
            version: 1
            name: full
            priority: 70
            select:
              vms: ["web-*", 6f1c2d3e-0000-4000-8000-000000000001]
              tags: [prod, critical]
              hosts: ["hv-*"]
              exclude: ["*-scratch"]
            schedule:
              - calendar: "*-*-* 01:00"
                timezone: Europe/Paris
                window: 4h
                jitter: 20m
                mode: full
              - calendar: hourly
            retention: {keep-last: 3, keep-hourly: 0, keep-daily: 7, keep-weekly: 4, keep-monthly: 12, keep-yearly: 2}
            store: /var/lib/vbackup/store
            encryption: required
            throttle:
              job-bandwidth: 50MiB/s
              host-bandwidth: 1.5GB/s
              max-concurrent-jobs: 3
              cpu: 150%
              cpu-weight: 20
              limits:
                - days: Mon..Fri
                  hours: "08:00-18:00"
                  timezone: America/New_York
                  job-bandwidth: off
              adaptive:
                cpu-pressure: {slow: 40%, pause: 80%}
                io-pressure: {pause: 60%}
                vm-disk-latency: {slow: 20ms, pause: 1s}
            """
        let policy = try Policy.parse(text, file: "full.yaml", hostTimeZone: utc)
        #expect(policy.name == "full" && policy.priority == 70 && policy.file == "full.yaml" && policy.nameLine == 2)
        #expect(policy.selection.description == "VMs web-* or 6f1c2d3e-0000-4000-8000-000000000001 tagged prod or critical, on hosts hv-*, except *-scratch")
        #expect(policy.schedules.count == 2)
        let nightly = policy.schedules[0], hourly = policy.schedules[1]
        #expect(nightly.description == "every day at 01:00 Europe/Paris")
        #expect(nightly.window == 4 * 3600 && nightly.jitter == 20 * 60 && nightly.mode == .full && !nightly.isHostTimeZone)
        #expect(hourly.timeZone == utc && hourly.isHostTimeZone, "no timezone: the host's")
        #expect(hourly.window == 6 * 3600 && hourly.jitter == 30 * 60 && hourly.mode == .incremental, "the defaults")
        #expect(policy.retention == RetentionRules(keepLast: 3, keepHourly: 0, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 2))
        #expect(policy.store == "/var/lib/vbackup/store" && policy.encryption == .required)
        let throttle = policy.throttle
        #expect(throttle.jobBandwidth == .bytesPerSecond(50 << 20) && throttle.hostBandwidth == .bytesPerSecond(1_500_000_000))
        #expect(throttle.maxConcurrentJobs == 3 && throttle.cpuPercent == 150 && throttle.cpuWeight == 20)
        #expect(throttle.limits.map(\.description) == ["Monday to Friday 08:00-18:00 America/New_York"])
        #expect(throttle.limits.first?.jobBandwidth == .unlimited)
        #expect(throttle.adaptive.cpuPressure == Thresholds(slow: 40, pause: 80))
        #expect(throttle.adaptive.ioPressure == Thresholds(slow: nil, pause: 60))
        #expect(throttle.adaptive.vmDiskLatency == Thresholds(slow: 0.02, pause: 1))
    }

    @Test("a minimal file: every VM, no schedule, nothing throttled, the agent's store")
    func minimalFile() throws {
        let minimal = try Policy.parse("version: 1\nname: all\n", file: "all.yaml")
        #expect(minimal.priority == 50 && minimal.schedules.isEmpty && minimal.store == nil && minimal.encryption == .any)
        #expect(minimal.selects(VMFacts(name: "anything", uuid: "x", host: "any-host")))
        #expect(minimal.throttle == Throttle() && !minimal.retention.keepsSomething)
    }

    @Test("a file that does not exist is an error naming it")
    func missingFile() {
        #expect(throws: PolicyFileErrors([PolicyFileError(file: "/nonexistent/policy.yaml", line: nil, message: "does not exist")])) {
            try Policy.load(path: "/nonexistent/policy.yaml")
        }
    }
}
