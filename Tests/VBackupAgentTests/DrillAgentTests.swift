import BackupEngine
import FleetAPI
import FleetClient
import Foundation
import LibvirtClient
import LocalStorage
import Testing
import VBackupDrill
import VBackupModel
import VBackupPolicy
import VBackupStore
@testable import VBackupAgent

/// A whole enrolled agent, in this process, with the real policy server and this host's
/// libvirtd: a policy's drill calendar that has fired drills the newest point of each VM it
/// selects, skips (and says why) a VM without a point, and the verdicts reach the server, the
/// store and the agent's status.
@Suite("Drilling agent", .serialized, .enabled(if: FileManager.default.fileExists(atPath: "/var/run/libvirt/libvirt-sock")))
struct DrillAgentTests {
    /// `*-*-* HH:MM` (UTC) of the minute before now: a drill calendar that fired a moment ago,
    /// whose window (1 h) is open when the agent starts.
    static func justFired() -> String {
        let earlier = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date().addingTimeInterval(-60))
        return String(format: "*-*-* %02d:%02d", earlier.hour!, earlier.minute!)
    }

    @Test("a due drill runs on the VM's newest point; a VM without a point is skipped; the server, store and status show both")
    func dueDrillReported() async throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let server = try await LiveServer.start(folder: folder)
        let admin = try server.adminClient()
        let state = folder.appendingPathComponent("agent")
        let enrollment = try await ServerLinkTests.enroll(server, name: "drilling-agent", state: state)

        let connection = try LibvirtConnection(uri: "qemu:///system")
        let prefix = "vbt-drill-\(UUID().uuidString.prefix(6).lowercased())"
        let labs = try ["a", "b"].map { suffix in
            try LabDomain.define(connection: connection, name: "\(prefix)-\(suffix)", disks: [.init(target: "vda", sizeMiB: 16)],
                                 directory: URL(fileURLWithPath: "/var/lib/libvirt/images/\(prefix)-\(suffix)"))
        }
        defer { for lab in labs { lab.remove() } }
        let (drilled, unsaved) = (labs[0].domain.name, labs[1].domain.name)
        let storeRoot = folder.appendingPathComponent("store"), cache = folder.appendingPathComponent("cache")
        let store = try Store.create(adapter: LocalStorageAdapter(root: storeRoot, create: true), cacheDirectory: cache)
        let point = try BackupRunner(connection: connection, store: store, options: BackupOptions()).backup(vm: drilled)

        let yaml = """
            version: 1
            name: drilled
            select:
              vms: [\(drilled), \(unsaved)]
            drill:
              calendar: "\(Self.justFired())"
              timezone: UTC
              window: 1h
              jitter: 0s
              timeout: 3m
              settle: 2s
            """
        _ = try await admin.applyPolicy(name: "drilled", PolicyApplyRequest(yaml: yaml))
        var config = AgentConfiguration(stateDirectory: state, policiesDirectory: folder.appendingPathComponent("unused")) { _ in store }
        config.controlsCPU = false
        config.policyPollInterval = 1
        config.vmNames = [try #require(Glob(validating: "\(prefix)-*"))]
        config.logger.logLevel = .critical
        config.runDrill = StandInDrill.run
        let agent = try Agent(config)
        let running = Task { try await onThread { try agent.run() } }

        let jobs = try await EnrolledAgentTests.eventually("both drill jobs ended on the server", timeout: 240) { () -> [JobInfo]? in
            let ended = try await admin.jobs().filter { $0.kind == "drill" && $0.state != "running" }
            return ended.count == 2 ? ended : nil
        }
        let job = try #require(jobs.first { $0.vmName == drilled })
        #expect(job.state == "succeeded" && job.pointID == point.id && job.trigger == "catch-up", "\(job)")
        #expect(job.hostID == enrollment.hostID && job.error == nil)
        let skipped = try #require(jobs.first { $0.vmName == unsaved })
        #expect(skipped.state == "skipped" && skipped.pointID == nil)
        #expect(skipped.error == "no point of this VM in \(store.adapter.location) to drill: back it up first")

        let drills = try await EnrolledAgentTests.eventually("the verdict on the server") {
            let found = try await admin.drills(vm: drilled)
            return found.isEmpty ? nil : found
        }
        #expect(drills.count == 1)
        let verdict = try #require(drills.first)
        #expect(verdict.outcome == "passed" && verdict.pointID == point.id && verdict.jobID == job.id && verdict.hostID == enrollment.hostID)
        #expect(verdict.rtoSeconds != nil && verdict.checks.contains { $0.kind == "running" && $0.status == "passed" })
        #expect(try await admin.drills(vm: unsaved).isEmpty, "a skipped drill has no verdict")

        let vms = try await EnrolledAgentTests.eventually("the VMs' drills on the server") { () -> [VMInfo]? in
            let vms = try await admin.vms(host: enrollment.hostID)
            return vms.contains { $0.name == drilled && $0.lastDrill != nil } ? vms : nil
        }
        let vm = try #require(vms.first { $0.name == drilled })
        #expect(vm.lastDrill?.drillID == verdict.drillID && vm.lastDrill?.outcome == "passed" && vm.lastPassedDrillAt == verdict.finishedAt)
        #expect(vms.first { $0.name == unsaved }?.lastDrill == nil)

        let records = try store.drillRecords(pointID: point.id)
        #expect(records.map(\.drillID) == [verdict.drillID] && records.first?.result.outcome == .passed, "kept with the point")
        // status.json is written once a tick, so it can lag the server by a second.
        let status = try await EnrolledAgentTests.eventually("both drills in the agent's status") {
            agent.status.flatMap { Set($0.recent.filter { $0.kind == "drill" }.map(\.state)) == ["succeeded", "skipped"] ? $0 : nil }
        }
        #expect(!status.next.contains { $0.kind == "drill" && $0.at < Date().addingTimeInterval(23 * 3600) }, "the next drill is tomorrow")

        agent.stop()
        try await running.value
        await server.stop()
    }
}

/// Stands in for VBackupDrill's runner until it is merged: records a passing verdict on the
/// asked point in the store, as the runner does, without booting anything.
enum StandInDrill {
    static let run: DrillRun = { store, _, host, options in
        let point = try store.point(id: try #require(options.pointID))
        let started = Date()
        let result = DrillVMResult(
            vm: point.vmName, vmUUID: point.vmUUID, pointID: point.id, pointCreatedAt: point.createdAt,
            sandboxName: "vbdrill-standin-\(point.vmName)", outcome: .passed, failure: nil, failedStep: nil, diskMode: "overlay",
            timings: DrillTimings(disksReady: 0.1, running: 0.5, healthy: 2.5, teardown: 0.2),
            checks: [DrillCheckResult(kind: .running, status: .passed, detail: "running for \(options.settle) s", at: 2.5)],
            consoleTail: [], storeErrors: [], cleanedUp: true)
        let id = "drill-standin-\(UUID().uuidString.prefix(4).lowercased())"
        let report = DrillReport(id: id, host: host, startedAt: started, finishedAt: started.addingTimeInterval(3), vms: [result])
        try store.recordDrill(DrillRecord(drillID: id, host: host, recordedAt: Date(), result: result))
        return report
    }
}
