import BackupEngine
import FleetAPI
import FleetClient
import Foundation
import LibvirtClient
import LocalStorage
import Testing
import VBackupModel
import VBackupPolicy
import VBackupStore
@testable import VBackupAgent

/// A whole enrolled agent, in this process, with the real policy server, this host's libvirtd
/// and VBackupDrill's runner: a policy's drill calendar that has fired drills the newest point
/// of each VM it selects (lab domains that sit in firmware: the drill checks that the sandbox
/// runs and stays up, and runs a check script), one at a time; a VM without a point is skipped
/// and says why; the verdicts reach the server, the store and the agent's status.
@Suite("Drilling agent", .serialized, .enabled(if: FileManager.default.fileExists(atPath: "/var/run/libvirt/libvirt-sock")))
struct DrillAgentTests {
    /// `*-*-* HH:MM` (UTC) of the minute before now: a drill calendar that fired a moment ago,
    /// whose window (1 h) is open when the agent starts.
    static func justFired() -> String {
        let earlier = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date().addingTimeInterval(-60))
        return String(format: "*-*-* %02d:%02d", earlier.hour!, earlier.minute!)
    }

    @Test("due drills run on each VM's newest point (one passes, one's check script fails); a VM without a point is skipped; the server, store and status show all three")
    func dueDrillsReported() async throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let server = try await LiveServer.start(folder: folder)
        let admin = try server.adminClient()
        let state = folder.appendingPathComponent("agent")
        let enrollment = try await ServerLinkTests.enroll(server, name: "drilling-agent", state: state)

        let connection = try LibvirtConnection(uri: "qemu:///system")
        let prefix = "vbt-drill-\(UUID().uuidString.prefix(6).lowercased())"
        let labs = try ["pass", "none", "fail"].map { suffix in
            try LabDomain.define(connection: connection, name: "\(prefix)-\(suffix)", disks: [.init(target: "vda", sizeMiB: 16)],
                                 directory: URL(fileURLWithPath: "/var/lib/libvirt/images/\(prefix)-\(suffix)"))
        }
        defer { for lab in labs { lab.remove() } }
        let (passing, unsaved, failing) = (labs[0].domain.name, labs[1].domain.name, labs[2].domain.name)
        let storeRoot = folder.appendingPathComponent("store"), cache = folder.appendingPathComponent("cache")
        let store = try Store.create(adapter: LocalStorageAdapter(root: storeRoot, create: true), cacheDirectory: cache)
        let passPoint = try BackupRunner(connection: connection, store: store, options: BackupOptions()).backup(vm: passing)
        let failPoint = try BackupRunner(connection: connection, store: store, options: BackupOptions()).backup(vm: failing)
        let script = folder.appendingPathComponent("refuse.sh")
        try Data("#!/bin/sh\necho \"service check refused\"\nexit 3\n".utf8).write(to: script)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)

        let drill = "drill:\n  calendar: \"\(Self.justFired())\"\n  timezone: UTC\n  window: 1h\n  jitter: 0s\n  timeout: 3m\n  settle: 2s\n"
        _ = try await admin.applyPolicy(name: "drilled", PolicyApplyRequest(
            yaml: "version: 1\nname: drilled\nselect:\n  vms: [\(passing), \(unsaved)]\n" + drill))
        _ = try await admin.applyPolicy(name: "refused", PolicyApplyRequest(
            yaml: "version: 1\nname: refused\nselect:\n  vms: [\(failing)]\n" + drill + "  script: \(script.path)\n"))
        var config = AgentConfiguration(stateDirectory: state, policiesDirectory: folder.appendingPathComponent("unused")) { _ in store }
        config.controlsCPU = false
        config.policyPollInterval = 1
        config.vmNames = [try #require(Glob(validating: "\(prefix)-*"))]
        config.logger.logLevel = .critical
        let agent = try Agent(config)
        defer { agent.stop() }  // also when an expectation ends the test early
        let running = Task { try await onThread { try agent.run() } }

        let jobs = try await EnrolledAgentTests.eventually("the three drill jobs ended on the server", timeout: 300) { () -> [JobInfo]? in
            let ended = try await admin.jobs().filter { $0.kind == "drill" && $0.state != "running" }
            return ended.count == 3 ? ended : nil
        }
        let passed = try #require(jobs.first { $0.vmName == passing })
        #expect(passed.state == "succeeded" && passed.pointID == passPoint.id && passed.trigger == "catch-up", "\(passed)")
        #expect(passed.hostID == enrollment.hostID && passed.error == nil)
        let skipped = try #require(jobs.first { $0.vmName == unsaved })
        #expect(skipped.state == "skipped" && skipped.pointID == nil)
        #expect(skipped.error == "no point of this VM in \(store.adapter.location) to drill: back it up first")
        let failed = try #require(jobs.first { $0.vmName == failing })
        #expect(failed.state == "failed" && failed.pointID == failPoint.id, "\(failed)")
        #expect(failed.error?.hasPrefix("drill failed (checks): ") == true && failed.error?.contains("exit") == true, "\(failed.error ?? "")")
        let (start, end) = (try #require(passed.startedAt), try #require(failed.startedAt))
        #expect(abs(end.timeIntervalSince(start)) >= 2, "one drill at a time: they did not start together")

        let drills = try await EnrolledAgentTests.eventually("both verdicts on the server") {
            let found = try await admin.drills(host: enrollment.hostID)
            return found.count == 2 ? found : nil
        }
        let pass = try #require(drills.first { $0.vmName == passing })
        #expect(pass.outcome == "passed" && pass.pointID == passPoint.id && pass.jobID == passed.id && pass.failure == nil)
        #expect((pass.rtoSeconds ?? 0) > 0 && (pass.runningSeconds ?? 0) > 0 && pass.checks.contains { $0.kind == "running" && $0.status == "passed" })
        let fail = try #require(drills.first { $0.vmName == failing })
        #expect(fail.outcome == "failed" && fail.failedStep == "checks" && fail.checks.contains { $0.kind == "script" && $0.status == "failed" })
        #expect(try await admin.drills(host: enrollment.hostID, failed: true).map(\.vmName) == [failing])

        let vms = Dictionary(uniqueKeysWithValues: try await admin.vms(host: enrollment.hostID).map { ($0.name, $0) })
        #expect(vms[passing]?.lastDrill?.outcome == "passed" && vms[passing]?.lastPassedDrillAt == pass.finishedAt)
        #expect(vms[failing]?.lastDrill?.outcome == "failed" && vms[failing]?.lastPassedDrillAt == nil)
        #expect(vms[unsaved].map { $0.lastDrill == nil } == true)
        let health = try await admin.host(id: enrollment.hostID).host
        #expect(health.health == .warning && health.problems.contains { $0.hasPrefix("VM \(failing): last drill failed: ") }, "\(health.problems)")

        #expect(try store.drillRecords(pointID: passPoint.id).map(\.drillID) == [pass.drillID], "the verdict is kept with its point")
        #expect(try store.drillRecords(pointID: failPoint.id).map(\.result.outcome) == [.failed])
        // status.json is written once a tick, so it can lag the server by a second.
        _ = try await EnrolledAgentTests.eventually("the three drills in the agent's status") {
            agent.status.flatMap { Set($0.recent.filter { $0.kind == "drill" }.map(\.state)) == ["succeeded", "skipped", "failed"] ? $0 : nil }
        }
        let sandboxes = try connection.listAllDomains().map(\.name).filter { $0.hasPrefix("vbdrill-") && $0.contains(prefix.suffix(6)) }
        #expect(sandboxes.isEmpty, "every sandbox is gone: \(sandboxes)")

        agent.stop()
        try await running.value
        await server.stop()
    }

    @Test("a drill the agent stops is interrupted, not failed, and queued again while its window is open")
    func stoppedDrillRequeued() async throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let connection = try LibvirtConnection(uri: "qemu:///system")
        let name = "vbt-drillstop-\(UUID().uuidString.prefix(6).lowercased())"
        let lab = try LabDomain.define(connection: connection, name: name, disks: [.init(target: "vda", sizeMiB: 16)],
                                       directory: URL(fileURLWithPath: "/var/lib/libvirt/images/\(name)"))
        defer { lab.remove() }
        let store = try Store.create(adapter: LocalStorageAdapter(root: folder.appendingPathComponent("store"), create: true),
                                     cacheDirectory: folder.appendingPathComponent("cache"))
        let point = try BackupRunner(connection: connection, store: store, options: BackupOptions()).backup(vm: name)
        let policies = folder.appendingPathComponent("policies"), state = folder.appendingPathComponent("agent")
        try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
        let yaml = "version: 1\nname: stopped\nselect:\n  vms: [\(name)]\ndrill:\n  calendar: \"\(Self.justFired())\"\n"
            + "  timezone: UTC\n  window: 1h\n  jitter: 0s\n"
        try Data(yaml.utf8).write(to: policies.appendingPathComponent("stopped.yaml"))
        var config = AgentConfiguration(stateDirectory: state, policiesDirectory: policies) { _ in store }
        config.controlsCPU = false
        config.vmNames = [try #require(Glob(validating: name))]
        config.logger.logLevel = .critical
        // A drill that runs until it is told to stop, then reports the stop as a failure, as
        // the runner does for a drill cut short.
        config.runDrill = { _, _, host, options in
            while !options.isCancelled() { Thread.sleep(forTimeInterval: 0.05) }
            let result = DrillVMResult(
                vm: point.vmName, vmUUID: point.vmUUID, pointID: point.id, pointCreatedAt: point.createdAt, sandboxName: "vbdrill-x",
                outcome: .failed, failure: "interrupted", failedStep: "boot", diskMode: "copy", timings: DrillTimings(),
                checks: [], consoleTail: [], storeErrors: [], cleanedUp: true)
            return DrillReport(id: "drill-stopped", host: host, startedAt: Date(), finishedAt: Date(), vms: [result])
        }
        let agent = try Agent(config)
        defer { agent.stop() }
        let running = Task { try await onThread { try agent.run() } }
        _ = try await EnrolledAgentTests.eventually("the drill running") {
            agent.status.flatMap { $0.running.contains { $0.kind == "drill" && $0.vm == name } ? true : nil }
        }
        agent.stop()
        try await running.value

        let journal = try JobJournal(directory: state)
        let stopped = try journal.recent(limit: 10).filter { $0.vmName == name }
        #expect(stopped.map(\.state) == [.interrupted] && stopped.first?.kind == .drill, "\(stopped)")
        #expect(stopped.first?.error == AgentStopReason.text)
        let retry = try journal.jobs(in: [.queued]).filter { $0.vmName == name }
        #expect(retry.map(\.kind) == [.drill] && retry.map(\.trigger) == [.retry] && retry.first?.windowEnd == stopped.first?.windowEnd)
    }
}
