import BackupEngine
import FleetAPI
import FleetClient
import Foundation
import LibvirtClient
import LocalStorage
import Testing
import VBackupStore
@testable import VBackupAgent

/// A whole agent, in this process, enrolled with the real policy server and connected to this
/// host's libvirtd: its policies come from the server and change without a restart, its
/// inventory reaches the server, a refused policy shows on both sides, and a server that goes
/// away leaves it running on its cache.
@Suite("Enrolled agent", .serialized, .enabled(if: FileManager.default.fileExists(atPath: "/var/run/libvirt/libvirt-sock")))
struct EnrolledAgentTests {
    /// Daily, at a time 12 hours from now (UTC), so no run falls due while the test runs.
    static func quietYAML(_ name: String, selectsEverything: Bool, select: String? = nil) -> String {
        let later = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date().addingTimeInterval(12 * 3600))
        let time = String(format: "%02d:%02d", later.hour!, later.minute!)
        let select = select ?? (selectsEverything ? "" : "select:\n  tags: [no-such-tag]\n")
        return "version: 1\nname: \(name)\n\(select)schedule:\n  - calendar: \"*-*-* \(time)\"\n    timezone: UTC\n    window: 1h\n"
    }

    static func eventually<T>(_ what: String, timeout: TimeInterval = 20, _ probe: () async throws -> T?) async throws -> T {
        let deadline = Date().addingTimeInterval(timeout)
        // A probe's request that fails (a server slow to answer while other suites load the
        // machine) is asked again until the deadline, and named if it is the last word.
        var lastError: (any Error)?
        while Date() < deadline {
            do {
                if let value = try await probe() { return value }
                lastError = nil
            } catch {
                lastError = error
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        Issue.record("timed out waiting for \(what)\(lastError.map { " (last error: \($0))" } ?? "")")
        throw FleetClientError.badResponse("timed out waiting for \(what)")
    }

    @Test("policies from the server, changed live; inventory and refusals reported; the cache outlives the server")
    func enrolledAgent() async throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let server = try await LiveServer.start(folder: folder)
        let admin = try server.adminClient()
        let state = folder.appendingPathComponent("agent")
        let enrollment = try await ServerLinkTests.enroll(server, name: "agent-under-test", state: state)
        _ = try await admin.applyPolicy(name: "quiet", PolicyApplyRequest(yaml: Self.quietYAML("quiet", selectsEverything: true)))

        let localFolder = folder.appendingPathComponent("local-policies")
        try FileManager.default.createDirectory(at: localFolder, withIntermediateDirectories: true)
        try Data(Self.quietYAML("local", selectsEverything: false).utf8).write(to: localFolder.appendingPathComponent("local.yaml"))
        var config = AgentConfiguration(stateDirectory: state, policiesDirectory: localFolder) { _ in
            throw AgentError.invalidArgument("this test opens no store")
        }
        config.controlsCPU = false
        config.policyPollInterval = 1
        config.logger.logLevel = .critical
        let agent = try Agent(config)
        let running = Task { try await onThread { try agent.run() } }

        let first = try await Self.eventually("the server's policies in force") {
            agent.status.flatMap { $0.server?.lastPoll != nil && $0.agent.policies.map(\.name) == ["quiet"] ? $0 : nil }
        }
        #expect(first.agent.policiesDirectory == ServerLink.cacheDirectory(stateDirectory: state).path, "the --policies folder is not read")
        #expect(first.server?.hostID == enrollment.hostID && first.server?.lastError == nil)

        // The host, its VM list and the agent agree at one moment: other tests define and
        // undefine domains meanwhile, and the agent reports every change, so the host read
        // alone and the list read after it can each be of a different inventory.
        let (host, vms) = try await Self.eventually("the inventory on the server") { () -> (HostInfo, [VMInfo])? in
            let count = agent.status?.agent.vms ?? -1
            let host = try await admin.host(id: enrollment.hostID).host
            let vms = try await admin.vms(host: enrollment.hostID)
            return host.libvirtVersion != nil && host.vmCount == count && vms.count == count ? (host, vms) : nil
        }
        #expect(host.policyErrors.isEmpty && host.agentVersion == AgentVersion.current)
        for vm in vms {
            #expect(vm.policy == "quiet" && vm.maximumPointAgeSeconds == 25 * 3600, "daily plus a 1 h window: \(vm.name)")
        }

        _ = try await admin.applyPolicy(name: "second", PolicyApplyRequest(yaml: Self.quietYAML("second", selectsEverything: false)))
        _ = try await Self.eventually("the new policy loaded without a restart") {
            agent.status.flatMap { Set($0.agent.policies.map(\.name)) == ["quiet", "second"] ? true : nil }
        }

        _ = try await server.repository.putPolicy(name: "second", yaml: "version: 1\nname: second\nschedule: weekly\n",
                                                  assignment: nil, author: "tester", now: Date())
        let refused = try await Self.eventually("the refusal in status") {
            agent.status.flatMap { $0.agent.policyErrors.contains { $0.hasPrefix("second v2: ") } ? $0 : nil }
        }
        #expect(refused.server?.refusedPolicies == refused.agent.policyErrors)
        #expect(Set(refused.agent.policies.map(\.name)) == ["quiet", "second"], "version 1 of 'second' stays in force")
        _ = try await Self.eventually("the refusal on the server") {
            try await admin.host(id: enrollment.hostID).host.policyErrors == refused.agent.policyErrors ? true : nil
        }

        await server.stop()
        let away = try await Self.eventually("the outage in status") {
            agent.status.flatMap { $0.server?.lastError?.contains("cannot reach the policy server") == true ? $0 : nil }
        }
        #expect(Set(away.agent.policies.map(\.name)) == ["quiet", "second"], "the cached policies stay in force")
        let written = try AgentStatus.read(from: state)
        #expect(written.server?.url == server.url.absoluteString, "status.json carries the server section")

        agent.stop()
        try await running.value
    }

    @Test("a backup's job reports, its point and its store's usage reach the server, the job once")
    func backupReported() async throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let server = try await LiveServer.start(folder: folder)
        let admin = try server.adminClient()
        let state = folder.appendingPathComponent("agent")
        let enrollment = try await ServerLinkTests.enroll(server, name: "agent-under-test", state: state)

        let connection = try LibvirtConnection(uri: "qemu:///system")
        let name = "vbt-agent-\(UUID().uuidString.prefix(8).lowercased())"
        let lab = try LabDomain.define(connection: connection, name: name, disks: [.init(target: "vda", sizeMiB: 32)],
                                       directory: URL(fileURLWithPath: "/var/lib/libvirt/images/\(name)"))
        defer { lab.remove() }
        let io = Process()  // the domain is shut off: write into its image directly
        io.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-io")
        io.arguments = ["-f", "qcow2", "-c", "write -P 0x5a 0 4M", try #require(try lab.diskPaths()["vda"])]
        io.standardOutput = FileHandle.nullDevice
        try io.run()
        io.waitUntilExit()
        #expect(io.terminationStatus == 0)
        let storeRoot = folder.appendingPathComponent("store"), cache = folder.appendingPathComponent("cache")
        let location = try Store.create(adapter: LocalStorageAdapter(root: storeRoot, create: true), cacheDirectory: cache).adapter.location
        _ = try await admin.applyPolicy(name: "lab", PolicyApplyRequest(
            yaml: Self.quietYAML("lab", selectsEverything: false, select: "select:\n  vms: [\(name)]\n")))

        var config = AgentConfiguration(stateDirectory: state, policiesDirectory: folder.appendingPathComponent("unused")) { _ in
            try Store.open(adapter: LocalStorageAdapter(root: storeRoot, create: false), cacheDirectory: cache)
        }
        config.controlsCPU = false
        config.policyPollInterval = 1
        config.workersPerJob = 2
        config.logger.logLevel = .critical
        let agent = try Agent(config)
        let running = Task { try await onThread { try agent.run() } }
        _ = try await Self.eventually("the policy in force") {
            agent.status.flatMap { $0.agent.policies.map(\.name) == ["lab"] ? true : nil }
        }
        try JobJournal(directory: state).request(policy: "lab", vms: [], full: false, at: Date())
        agent.poke()

        let job = try await Self.eventually("the finished job on the server", timeout: 120) {
            try await admin.jobs().first { $0.vmName == name && $0.state != "running" }
        }
        #expect(job.state == "succeeded" && job.hostID == enrollment.hostID && job.trigger == "manual", "\(job)")
        #expect(try await admin.jobs().filter { $0.vmName == name }.count == 1, "the end report replaced the running one")
        let points = try await admin.points(vm: name)
        #expect(points.map(\.id) == [job.pointID].compactMap { $0 })
        #expect(points.first?.store == location && points.first?.kind == "full" && points.first?.logicalBytes == 32 << 20)
        let usage = try await Self.eventually("the store's usage on the server") {
            try await admin.storeUsage().first { $0.hostID == enrollment.hostID && $0.store == location }
        }
        #expect(usage.samples.last?.points == 1 && usage.samples.last?.logicalBytes == 32 << 20)
        #expect((usage.samples.last?.storedBytes ?? 0) > 0)
        // status.json is written once a tick, so it can lag the delivery by a second.
        _ = try await Self.eventually("an empty outbox in the agent's status") {
            agent.status?.server?.outboxLength == 0 ? true : nil
        }

        agent.stop()
        try await running.value
        await server.stop()
    }
}
