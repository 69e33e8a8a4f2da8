import BackupEngine
import FleetAPI
import Foundation
import VBackupModel
import VBackupAgent
import XCTest

/// The fleet as operators run it: a `vbackup server` process, hosts that are `vbackup agent`
/// processes enrolled with one-time tokens, policies applied with `vbackup policy apply`, and
/// results read back with `vbackup jobs` / `hosts`, the API and the dashboard.
///
/// Two hosts share this machine's libvirtd, so each agent manages its own set of VMs
/// (`--vms`) and writes its own store, as two hosts would.
final class FleetLoopTests: XCTestCase {
    /// One policy applied once on the server reaches both hosts without a restart; each runs
    /// the backups it schedules, and the jobs, points and hosts come back to the server and
    /// its dashboard.
    func testAPolicyAppliedOnTheServerReachesTwoHostsAndTheirResultsComeBack() throws {
        let fleet = try Fleet(hosts: 2)
        defer { fleet.cleanup() }
        try fleet.server.start()
        try fleet.enrollAndStartAgents()
        try fleet.applyMinutelyPolicy()

        for host in fleet.hosts {
            try host.agent.waitForStatus(timeout: 30) { $0.agent.policies.map(\.name) == [fleet.policyName] }
            try host.agent.waitForStatus(timeout: 150) { $0.recent.contains { $0.state == "succeeded" } }
        }
        let jobs = try fleet.waitForServer("a succeeded job of each host") { (jobs: [JobInfo]) in
            fleet.hosts.allSatisfy { host in jobs.contains { $0.hostName == host.name && $0.state == "succeeded" } }
        }
        for host in fleet.hosts {
            let job = try XCTUnwrap(jobs.first { $0.hostName == host.name && $0.state == "succeeded" })
            XCTAssertEqual(job.vmName, host.vm.domain.name, "each host backs up only its own VMs")
            XCTAssertEqual(job.policy, fleet.policyName)
            XCTAssertGreaterThan(job.bytesRead, 0)
            XCTAssertNotNil(job.pointID)
            XCTAssertNotNil(job.startedAt)
            XCTAssertNotNil(job.finishedAt)
            XCTAssertTrue(try host.lab.freshStore().listPoints(vm: host.vm.domain.name).map(\.id).contains(job.pointID!),
                          "the point the server lists is in the host's store")
        }

        let hosts: [HostInfo] = try fleet.server.adminJSON(["hosts"])
        XCTAssertEqual(Set(hosts.map(\.name)), Set(fleet.hosts.map(\.name)))
        for host in hosts {
            XCTAssertEqual(host.vmCount, 1, "\(host.name) reports only the VMs it manages")
            XCTAssertNotNil(host.lastContact)
            XCTAssertEqual(host.health, .ok, "\(host.name): \(host.problems)")
        }
        let vms: [VMInfo] = try fleet.server.api("GET", APIPath.vms)
        for host in fleet.hosts {
            let vm = try XCTUnwrap(vms.first { $0.name == host.vm.domain.name })
            XCTAssertEqual(vm.hostName, host.name)
            XCTAssertEqual(vm.policy, fleet.policyName)
            XCTAssertNotNil(vm.lastPointAt, "the VM's last point is known to the server")
            XCTAssertFalse(vm.overdue)
        }

        // The dashboard, behind the admin credential.
        let page = try fleet.server.dashboard()
        for host in fleet.hosts {
            XCTAssertTrue(page.contains(host.name), "the dashboard shows host \(host.name)")
            XCTAssertTrue(page.contains(host.vm.domain.name), "the dashboard shows VM \(host.vm.domain.name)")
        }
    }

    /// A drill run by hand on an enrolled host reaches the server as the agent's drills do:
    /// `/api/v1/drills` lists it under the host, and the VM's last passed drill is the drill's.
    func testADrillRunByHandOnAnEnrolledHostIsReportedToTheServer() throws {
        let fleet = try Fleet(hosts: 1)
        defer { fleet.cleanup() }
        let host = fleet.hosts[0]
        try fleet.server.start()
        try fleet.enrollAndStartAgents()   // (no policy: the agent only reports its inventory)
        let deadline = Date() + 30
        while Date() < deadline, !(try fleet.server.api("GET", APIPath.vms, as: [VMInfo].self)).contains(where: { $0.name == host.vm.domain.name }) {
            usleep(300_000)
        }
        let environment = ["VBACKUP_CACHE": host.lab.cachePath.path]
        let store = ["--store", host.lab.storePath.path]
        let backup = try runTool(vbackupBinary, ["backup", host.vm.domain.name] + store, environment: environment)
        XCTAssertEqual(backup.status, 0, backup.err)

        let drill = try runTool(vbackupBinary, ["drill", "--vm", host.vm.domain.name, "--settle", "1", "--json",
                                                "--state-dir", host.agent.state.path] + store, environment: environment)
        XCTAssertEqual(drill.status, 0, drill.err)
        XCTAssertFalse(drill.err.contains("warning"), drill.err)
        let report = try APIJSON.decoder().decode(DrillReport.self, from: Data(drill.out.utf8))

        let drills: [DrillInfo] = try fleet.server.api("GET", APIPath.drills)
        XCTAssertEqual(drills.count, 1, "one VM drilled, one verdict on the server")
        let heard = try XCTUnwrap(drills.first)
        XCTAssertEqual(heard.drillID, report.id)
        XCTAssertEqual(heard.hostName, host.name)
        XCTAssertEqual(heard.vmName, host.vm.domain.name)
        XCTAssertEqual(heard.pointID, report.vms.first?.pointID)
        XCTAssertEqual(heard.outcome, "passed")
        XCTAssertNil(heard.jobID, "a drill run by hand is no agent job")
        let vms: [VMInfo] = try fleet.server.api("GET", APIPath.vms)
        XCTAssertNotNil(vms.first { $0.name == host.vm.domain.name }?.lastPassedDrillAt,
                        "the server knows when the VM last passed a drill")
    }

    /// With the server down, the agents keep running their cached policy; the reports of the
    /// jobs they run queue on the hosts, survive agent restarts (a clean stop and a SIGKILL),
    /// and reach the server exactly once when it is back: every job the host finished is on
    /// the server, in its final state, and nothing else is.
    func testReportsQueuedDuringAnOutageArriveExactlyOnceAfterAgentRestarts() throws {
        let fleet = try Fleet(hosts: 1)
        defer { fleet.cleanup() }
        let host = fleet.hosts[0]
        try fleet.server.start()
        try fleet.enrollAndStartAgents()
        try fleet.applyMinutelyPolicy()
        try fleet.waitForServer("the first job") { (jobs: [JobInfo]) in jobs.contains { $0.state == "succeeded" } }

        fleet.server.stop()
        let outageStarted = Date()
        let queued = try host.agent.waitForStatus(timeout: 200) { status in
            status.recent.filter { $0.state == "succeeded" && ($0.finishedAt ?? .distantPast) > outageStarted }.count >= 2
        }
        XCTAssertGreaterThan(queued.server?.outboxLength ?? 0, 0, "reports wait on the host while the server is down")
        XCTAssertNotNil(queued.server?.lastError, "status says the server does not answer")

        host.agent.stop()
        try host.agent.start(arguments: host.agentArguments)
        host.agent.kill()
        try host.agent.start(arguments: host.agentArguments)
        let restarted = try XCTUnwrap(host.agent.status())
        XCTAssertGreaterThan(restarted.server?.outboxLength ?? 0, 0, "the queue survived a clean stop and a SIGKILL")

        try fleet.server.start()
        try host.agent.waitForStatus(timeout: 90) { ($0.server?.outboxLength ?? 1) == 0 && $0.server?.deliveryError == nil }
        let journal = try JobJournal(directory: host.agent.state)
        let finished = try journal.recent(limit: 1000).filter { $0.state.isFinished }
        XCTAssertGreaterThanOrEqual(finished.filter { $0.state == .succeeded && ($0.finishedAt ?? .distantPast) > outageStarted }.count, 2)
        let onServer = try fleet.waitForServer("every finished job in its final state") { (jobs: [JobInfo]) in
            finished.allSatisfy { job in jobs.contains { $0.id == job.id && $0.state == job.state.rawValue } }
        }
        let agentJobs = Set(try journal.recent(limit: 1000).map(\.id))
        XCTAssertEqual(Set(onServer.map(\.id)).subtracting(agentJobs), [], "the server has no job the host does not")
        XCTAssertEqual(onServer.count, Set(onServer.map(\.id)).count, "each job once")
        let points: [PointInfo] = try fleet.server.api("GET", APIPath.points + "?limit=1000")
        let succeeded = finished.filter { $0.state == .succeeded }
        XCTAssertEqual(Set(points.map(\.jobID)).intersection(succeeded.map(\.id)).count, succeeded.count,
                       "a point for every succeeded job")
        XCTAssertEqual(points.count, Set(points.map(\.id)).count, "each point once")
    }
}

/// A server and N enrolled hosts, each with its own lab (one running VM, a store) and agent.
private final class Fleet {
    struct Host {
        let name: String
        let lab: Lab
        let agent: AgentLab
        let vm: LabDomain
        var agentArguments: [String] { ["--vms", vm.domain.name, "--poll-interval", "1"] }
    }

    let server: FleetLab
    var hosts: [Host] = []
    let id = UUID().uuidString.prefix(6).lowercased()
    var policyName: String { "fleet-\(id)" }

    init(hosts count: Int) throws {
        let first = try Lab()
        server = try FleetLab(root: first.root)
        for index in 0..<count {
            let lab = index == 0 ? first : try Lab()
            let vm = try lab.domain()
            try vm.write("vda", offset: 0, length: 8 * .mib, pattern: UInt8(0x40 + index))
            try vm.domain.setVbackupTags([policyName])
            hosts.append(Host(name: "host-\(index)-\(id)", lab: lab, agent: try AgentLab(lab: lab), vm: vm))
        }
    }

    func enrollAndStartAgents() throws {
        for host in hosts {
            let token = try server.enrollmentToken(host: host.name)
            let enrolled = try host.agent.vbackup(["agent", "enroll", "--server", server.url, "--token", token, "--host-name", host.name])
            XCTAssertEqual(enrolled.status, 0, enrolled.err)
            try host.agent.start(arguments: host.agentArguments)
        }
    }

    /// Every VM tagged for this test, every minute, as one policy for the whole fleet.
    func applyMinutelyPolicy() throws {
        let file = server.root.appendingPathComponent("\(policyName).yaml")
        try Data("""
            version: 1
            name: \(policyName)
            select: {tags: [\(policyName)]}
            schedule:
              - calendar: minutely
                window: 50s
            """.utf8).write(to: file)
        let applied = try server.admin(["policy", "apply", file.path])
        XCTAssertEqual(applied.status, 0, applied.err)
    }

    /// Polls `vbackup jobs --json` until `condition` holds; returns the last answer.
    @discardableResult
    func waitForServer(_ what: String, timeout: TimeInterval = 60, _ condition: ([JobInfo]) -> Bool) throws -> [JobInfo] {
        let deadline = Date() + timeout
        var jobs: [JobInfo] = []
        while Date() < deadline {
            jobs = (try? server.adminJSON(["jobs", "--limit", "1000"], as: [JobInfo].self)) ?? []
            if condition(jobs) { return jobs }
            usleep(500_000)
        }
        XCTFail("the server never had \(what); it has \(jobs.map { "\($0.hostName)/\($0.vmName) \($0.state)" })")
        return jobs
    }

    func cleanup() {
        for host in hosts {
            host.agent.cleanup()
            host.lab.cleanup()
        }
        server.cleanup()
    }
}
