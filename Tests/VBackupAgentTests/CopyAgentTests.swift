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

/// When and how the agent copies: a policy's `copy:` calendar fires like a schedule of its
/// own, for the VMs the copy covers, and a due copy job copies the VM's points into the target
/// store; its end reaches the policy server as a job of kind `copy`.
@Suite("Copying agent", .serialized)
struct CopyAgentTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let web = VMFacts(name: "web1", uuid: "6f1c2d3e-0000-4000-8000-000000000001", host: "hv1")
    static let db = VMFacts(name: "db1", uuid: "6f1c2d3e-0000-4000-8000-000000000002", host: "hv1")

    static func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test("a copy calendar makes copy firings of its own, only for the VMs the copy covers")
    func dueCopy() throws {
        let yaml = """
            version: 1
            name: nightly
            priority: 60
            schedule:
              - calendar: "*-*-* 01:00"
                window: 4h
            copy:
              to: /mnt/offsite/store
              calendar: "*-*-* 03:00"
              window: 2h
              jitter: 0s
              vms: [web*]
            """
        let set = PolicySet(policies: [try Policy.parse(yaml, file: "nightly.yaml", hostTimeZone: Self.utc)])
        let scheduler = Scheduler(policies: set, agentStartedAt: Self.at("2025-06-15T00:00:00Z"))
        let due = try scheduler.due(vms: [Self.web, Self.db], now: Self.at("2025-06-15T03:05:00Z")) { _, _, _ in nil }
        let copies = due.filter { $0.kind == .copy }
        #expect(copies.map(\.vm) == [Self.web], "db1 is backed up but not copied")
        let copy = try #require(copies.first)
        #expect(copy.scheduleIndex == Schedule.copyIndex && copy.firedAt == Self.at("2025-06-15T03:00:00Z"))
        #expect(copy.windowEnd == Self.at("2025-06-15T05:00:00Z") && !copy.fullBackup && copy.priority == 60)
        #expect(Set(due.filter { $0.kind == .backup }.map(\.vm)) == [Self.web, Self.db])

        let handled = try scheduler.due(vms: [Self.web], now: Self.at("2025-06-15T03:05:00Z")) { _, index, _ in
            index == Schedule.copyIndex ? Self.at("2025-06-15T03:00:00Z") : nil
        }
        #expect(handled.map(\.kind) == [.backup])
        let next = scheduler.upcoming(vms: [Self.web], now: Self.at("2025-06-15T03:05:00Z"), limit: 10)
        #expect(next.map(\.kind) == [nil, "copy"] && next.last?.at == Self.at("2025-06-16T03:00:00Z"))
    }

    /// `*-*-* HH:MM` (UTC) of the minute before now: a calendar that fired a moment ago.
    static func justFired() -> String {
        let earlier = Calendar(identifier: .gregorian).dateComponents(in: utc, from: Date().addingTimeInterval(-60))
        return String(format: "*-*-* %02d:%02d", earlier.hour!, earlier.minute!)
    }

    /// Writes `pattern` into a shut-off domain's qcow2 image, as data for its next backup.
    static func write(_ pattern: UInt8, megabytes: Int, into image: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-io")
        process.arguments = ["-f", "qcow2", "-c", "write -P \(pattern) 0 \(megabytes)M", image]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    @Test("a due copy job copies the VM's points into the target; a VM without a point is skipped; the server sees both",
          .enabled(if: FileManager.default.fileExists(atPath: "/var/run/libvirt/libvirt-sock")))
    func dueCopyRuns() async throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let server = try await LiveServer.start(folder: folder)
        let admin = try server.adminClient()
        let state = folder.appendingPathComponent("agent")
        let enrollment = try await ServerLinkTests.enroll(server, name: "copying-agent", state: state)

        let connection = try LibvirtConnection(uri: "qemu:///system")
        let prefix = "vbt-copy-\(UUID().uuidString.prefix(6).lowercased())"
        let labs = try ["saved", "none"].map { suffix in
            try LabDomain.define(connection: connection, name: "\(prefix)-\(suffix)", disks: [.init(target: "vda", sizeMiB: 16)],
                                 directory: URL(fileURLWithPath: "/var/lib/libvirt/images/\(prefix)-\(suffix)"))
        }
        defer { for lab in labs { lab.remove() } }
        let (saved, unsaved) = (labs[0].domain.name, labs[1].domain.name)
        let source = try Store.create(adapter: LocalStorageAdapter(root: folder.appendingPathComponent("store"), create: true),
                                      cacheDirectory: folder.appendingPathComponent("cache"))
        let targetPath = folder.appendingPathComponent("offsite").path
        let target = try Store.create(adapter: LocalStorageAdapter(root: URL(fileURLWithPath: targetPath), create: true),
                                      cacheDirectory: folder.appendingPathComponent("cache"))
        let image = try #require(try labs[0].diskPaths()["vda"])
        try Self.write(0x5A, megabytes: 3, into: image)
        let first = try BackupRunner(connection: connection, store: source, options: BackupOptions()).backup(vm: saved)
        try Self.write(0x3C, megabytes: 1, into: image)
        let second = try BackupRunner(connection: connection, store: source, options: BackupOptions()).backup(vm: saved)

        let copy = "copy:\n  to: \(targetPath)\n  calendar: \"\(Self.justFired())\"\n  timezone: UTC\n  window: 1h\n  jitter: 0s\n"
            + "  bandwidth: 100MiB/s\n"
        _ = try await admin.applyPolicy(name: "offsite", PolicyApplyRequest(
            yaml: "version: 1\nname: offsite\nselect:\n  vms: [\(saved), \(unsaved)]\n" + copy))
        var config = AgentConfiguration(stateDirectory: state, policiesDirectory: folder.appendingPathComponent("unused")) { location in
            location == targetPath ? target : source
        }
        config.controlsCPU = false
        config.policyPollInterval = 1
        config.vmNames = [try #require(Glob(validating: "\(prefix)-*"))]
        config.logger.logLevel = .critical
        let agent = try Agent(config)
        defer { agent.stop() }
        let running = Task { try await onThread { try agent.run() } }

        let jobs = try await EnrolledAgentTests.eventually("both copy jobs ended on the server", timeout: 120) { () -> [JobInfo]? in
            let ended = try await admin.jobs().filter { $0.kind == "copy" && $0.state != "running" }
            return ended.count == 2 ? ended : nil
        }
        let copied = try #require(jobs.first { $0.vmName == saved })
        #expect(copied.state == "succeeded" && copied.pointID == second.id && copied.error == nil, "\(copied)")
        #expect(copied.hostID == enrollment.hostID && copied.bytesStored > 0 && copied.trigger == "catch-up")
        let skipped = try #require(jobs.first { $0.vmName == unsaved })
        #expect(skipped.state == "skipped" && skipped.error == "no point of this VM in \(source.adapter.location) to copy: back it up first")

        try target.refresh()
        #expect(try target.listPoints(vm: saved).map(\.id) == [first.id, second.id])
        for point in [first, second] {
            let original = try source.readDiskIndex(point.disks[0])
            let copyIndex = try target.readDiskIndex(try target.point(id: point.id).disks[0])
            #expect(try copyIndex.chunks.map { try target.readChunk($0) } == original.chunks.map { try source.readChunk($0) })
        }
        _ = try await EnrolledAgentTests.eventually("the copies in the agent's status") {
            agent.status.flatMap { Set($0.recent.filter { $0.kind == "copy" }.map(\.state)) == ["succeeded", "skipped"] ? $0 : nil }
        }

        agent.stop()
        try await running.value
        await server.stop()
    }
}
