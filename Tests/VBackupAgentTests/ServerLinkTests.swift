import FleetAPI
import FleetClient
import Foundation
import Logging
import Testing
@testable import VBackupAgent

/// The agent's side of the policy server, against the real server (in process, SQLite, a real
/// port): enrollment, conditional polls, policy changes, refusals, and reports that survive a
/// server outage.
@Suite("Policy server link", .serialized)
struct ServerLinkTests {
    static let logger: Logger = {
        var logger = Logger(label: "vbackup.agent.test")
        logger.logLevel = .critical
        return logger
    }()

    static func yaml(_ name: String, keepLast: Int = 3, calendar: String = "*-*-* 01:00") -> String {
        "version: 1\nname: \(name)\nselect:\n  tags: [no-such-tag]\nschedule:\n  - calendar: \"\(calendar)\"\nretention:\n  keep-last: \(keepLast)\n"
    }

    static func enroll(_ server: LiveServer, name: String, state: URL) async throws -> ServerEnrollment {
        let token = try await server.adminClient().createEnrollmentToken(EnrollmentTokenRequest(hostName: name))
        return try await onThread {
            try ServerEnrollment.enroll(server: server.url, token: token.token, hostName: name, caCertificate: nil, stateDirectory: state)
        }
    }

    static func sync(_ enrollment: ServerEnrollment, state: URL) throws -> PolicySync {
        try PolicySync(client: enrollment.client(timeout: .seconds(5)),
                       cache: PolicyCache(directory: ServerLink.cacheDirectory(stateDirectory: state)), interval: 30, logger: logger)
    }

    static func cached(_ sync: PolicySync, _ name: String) -> String? {
        FileManager.default.contents(atPath: sync.cache.directory.appendingPathComponent("\(name).yaml").path)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("enroll trades a one-time token for a credential kept in server.json (0600); the token works once; leave forgets it")
    func enrollment() async throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let server = try await LiveServer.start(folder: folder)
        let state = folder.appendingPathComponent("agent")
        let enrollment = try await Self.enroll(server, name: "web-1", state: state)
        #expect(TokenKind.of(enrollment.credential) == .host && enrollment.hostName == "web-1")
        #expect(try ServerEnrollment.read(from: state) == enrollment)
        #expect(!enrollment.description.contains(enrollment.credential), "descriptions never show the credential")
        var info = stat()
        #expect(stat(state.appendingPathComponent(ServerEnrollment.fileName).path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(try await server.adminClient().hosts().map(\.id) == [enrollment.hostID])

        let token = try await server.adminClient().createEnrollmentToken(EnrollmentTokenRequest())
        let other = folder.appendingPathComponent("other")
        _ = try await onThread { try ServerEnrollment.enroll(server: server.url, token: token.token, hostName: "web-2", caCertificate: nil, stateDirectory: other) }
        await #expect {
            try await onThread { try ServerEnrollment.enroll(server: server.url, token: token.token, hostName: "web-3", caCertificate: nil, stateDirectory: other) }
        } throws: { error in
            guard case FleetClientError.http(401, let message) = error else { return false }
            return !message.isEmpty
        }
        #expect(throws: AgentError.self, "an admin token is refused before it leaves the host") {
            try ServerEnrollment.enroll(server: server.url, token: server.admin, hostName: "x", caCertificate: nil, stateDirectory: other)
        }
        #expect(try ServerEnrollment.remove(from: state))
        #expect(try ServerEnrollment.read(from: state) == nil)
        await server.stop()
    }

    @Test("a poll brings the host's policies; the next is answered 'unchanged'; a new version and an unassignment arrive")
    func policyChanges() async throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let server = try await LiveServer.start(folder: folder)
        let admin = try server.adminClient()
        let state = folder.appendingPathComponent("agent")
        let sync = try Self.sync(try await Self.enroll(server, name: "web-1", state: state), state: state)
        _ = try await admin.applyPolicy(name: "nightly", PolicyApplyRequest(yaml: Self.yaml("nightly")))

        let reloads = Counter()
        let first = try await onThread { sync.poll(changed: reloads.increment) }
        #expect(first?.written == ["nightly"] && reloads.value == 1)
        #expect(Self.cached(sync, "nightly") == Self.yaml("nightly") && sync.status.lastContact != nil)
        let etag = sync.cacheState.etag
        #expect(etag != nil)

        let second = try await onThread { sync.poll(changed: reloads.increment) }
        #expect(second == nil && reloads.value == 1 && sync.cacheState.etag == etag, "304: nothing applied, nothing reloaded")

        let update = try await admin.applyPolicy(name: "nightly", PolicyApplyRequest(yaml: Self.yaml("nightly", keepLast: 7)))
        #expect(update.created && update.document.version == 2)
        let third = try await onThread { sync.poll(changed: reloads.increment) }
        #expect(third?.written == ["nightly"] && reloads.value == 2)
        #expect(Self.cached(sync, "nightly") == Self.yaml("nightly", keepLast: 7) && sync.cacheState.versions == ["nightly": 2])

        _ = try await admin.setAssignment(name: "nightly", PolicyAssignment(hosts: ["db-*"]))
        let fourth = try await onThread { sync.poll(changed: reloads.increment) }
        #expect(fourth?.removed == ["nightly"] && Self.cached(sync, "nightly") == nil && reloads.value == 3)
        await server.stop()
    }

    @Test("a policy this agent cannot run is refused, its last good version stays, and the refusal reaches the server")
    func refusal() async throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let server = try await LiveServer.start(folder: folder)
        let state = folder.appendingPathComponent("agent")
        let enrollment = try await Self.enroll(server, name: "web-1", state: state)
        let sync = try Self.sync(enrollment, state: state)
        _ = try await server.adminClient().applyPolicy(name: "nightly", PolicyApplyRequest(yaml: Self.yaml("nightly")))
        _ = try await onThread { sync.poll() }

        // The server validates what admins apply; a server with another parser (a newer
        // format) would not: store versions this agent cannot read straight in the repository.
        let broken = Self.yaml("nightly", calendar: "Fry 01:00")
        _ = try await server.repository.putPolicy(name: "nightly", yaml: broken, assignment: nil, author: "tester", now: Date())
        _ = try await server.repository.putPolicy(name: "fresh", yaml: "version: 1\nname: fresh\nschedule: daily\n",
                                                  assignment: .everyHost, author: "tester", now: Date())
        let outcome = try await onThread { sync.poll() }
        #expect(Set(outcome.map { Array($0.refused.keys) } ?? []) == ["nightly", "fresh"] && outcome?.changed == false)
        #expect(Self.cached(sync, "nightly") == Self.yaml("nightly") && Self.cached(sync, "fresh") == nil)
        #expect(sync.cacheState.versions == ["nightly": 1])
        #expect(sync.refusals.contains { $0.hasPrefix("nightly v2: line 6: ") }, "\(sync.refusals)")

        let journal = try JobJournal(directory: state, reportQueued: Doorbell())
        try journal.enqueue([AgentReport(createdAt: Date(), inventory: InventoryReport(
            agentVersion: AgentVersion.current, libvirtVersion: nil, vms: [], policyErrors: sync.refusals,
            policyVersions: sync.cacheState.versions))])
        let delivery = ReportDelivery(client: try enrollment.client(timeout: .seconds(5)), journal: journal, doorbell: Doorbell(), logger: Self.logger)
        #expect(try await onThread { delivery.deliverOnce() } == .delivered)
        let host = try await server.adminClient().host(id: enrollment.hostID).host
        #expect(host.policyErrors == sync.refusals && host.health == .warning, "\(host)")
        await server.stop()
    }

    @Test("reports queued while the server is down are delivered when it is back, each stored once")
    func outage() async throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        var server = try await LiveServer.start(folder: folder)
        let state = folder.appendingPathComponent("agent")
        let enrollment = try await Self.enroll(server, name: "web-1", state: state)
        await server.stop()

        let bell = Doorbell()
        let journal = try JobJournal(directory: state, reportQueued: bell)
        var job = JobRecord(vmUUID: "6f1c2d3e-0000-4000-8000-000000000001", vmName: "web-1-vm", policy: "nightly", scheduleIndex: 0,
                            fullBackup: true, trigger: .schedule, priority: 50, firedAt: Date(), windowEnd: nil, queuedAt: Date())
        try journal.insert(job)
        job.state = .running
        job.startedAt = Date()
        try journal.update(job)
        job.state = .succeeded
        job.finishedAt = Date()
        job.bytesRead = 5 << 20
        job.pointID = "20250602T010000Z-ab12"
        let point = PointReport(id: job.pointID!, store: "/srv/store", createdAt: job.startedAt!, kind: "full", logicalBytes: 8 << 20,
                                storedBytes: 3 << 20)
        try journal.update(job, point: point)
        let queued = try journal.outbox(limit: 10)

        let delivery = ReportDelivery(client: try enrollment.client(timeout: .seconds(2)), journal: journal, doorbell: bell, logger: Self.logger)
        #expect(try await onThread { delivery.deliverOnce() } == .failed)
        #expect(delivery.status.lastError?.hasPrefix("cannot reach the policy server at \(server.url.absoluteString)") == true)
        #expect(try journal.outboxSummary().count == 2, "nothing is lost while the server is away")

        let loop = Flag(true)
        let finished = Task { try await onThread { delivery.run(while: { loop.value }) } }
        try await Task.sleep(for: .milliseconds(1_500))
        server = try await LiveServer.start(folder: folder, port: server.port, admin: server.admin)
        let deadline = Date().addingTimeInterval(20)
        while try journal.outboxSummary().count > 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(200)) }
        loop.value = false
        bell.ring()
        try await finished.value
        #expect(try journal.outboxSummary().count == 0, "delivered after the back-off")
        #expect(delivery.status.lastError == nil && delivery.status.lastDelivery != nil)

        let admin = try server.adminClient()
        let jobs = try await admin.jobs()
        #expect(jobs.map(\.id) == [job.id] && jobs.first?.state == "succeeded" && jobs.first?.pointID == point.id)
        #expect(try await admin.points().map(\.id) == [point.id])

        // The acknowledgement was lost, say: the same reports go again and are stored once.
        try journal.enqueue(queued)
        #expect(try await onThread { delivery.deliverOnce() } == .delivered)
        #expect(try journal.outboxSummary().count == 0)
        #expect(try await admin.jobs().count == 1)
        await server.stop()
    }

    @Test("the admin routes answer through FleetClient, and a revoked host's credential stops working at once")
    func adminRoutes() async throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let server = try await LiveServer.start(folder: folder)
        let admin = try server.adminClient()
        #expect(try await admin.health().database == "sqlite")
        #expect(try await admin.applyPolicy(name: "nightly", PolicyApplyRequest(yaml: Self.yaml("nightly"))).created)
        let again = try await admin.applyPolicy(name: "nightly", PolicyApplyRequest(yaml: Self.yaml("nightly")))
        #expect(!again.created && again.document.version == 1, "the same text is not a new version")
        #expect(try await admin.policies().map(\.name) == ["nightly"])
        #expect(try await admin.policyVersions(name: "nightly").map(\.version) == [1])
        let assigned = try await admin.setAssignment(name: "nightly", PolicyAssignment(hosts: ["web-*"], groups: ["prod"]))
        #expect(assigned.assignment == PolicyAssignment(hosts: ["web-*"], groups: ["prod"]))

        let state = folder.appendingPathComponent("agent")
        let enrollment = try await Self.enroll(server, name: "web-1", state: state)
        #expect(try await admin.host(id: enrollment.hostID).host.name == "web-1")
        #expect(try await admin.vms().isEmpty)
        #expect(try await admin.jobs(.init(failed: true, limit: 5)).isEmpty)
        #expect(try await admin.storeUsage(days: 7).isEmpty)

        let host = try enrollment.client(timeout: .seconds(5))
        guard case .changed(let bundle) = try await host.policyBundle(ifNoneMatch: nil) else { throw FleetClientError.badResponse("no bundle") }
        #expect(bundle.policies.map(\.name) == ["nightly"])
        #expect(try await host.policyBundle(ifNoneMatch: bundle.etag) == .unchanged)

        #expect(try await admin.revokeHost(id: enrollment.hostID).revoked)
        await #expect { try await host.policyBundle(ifNoneMatch: nil) } throws: { error in
            if case FleetClientError.http(401, _) = error { return true }
            return false
        }
        await #expect { try await admin.host(id: UUID().uuidString.lowercased()) } throws: { error in
            if case FleetClientError.http(404, let message) = error { return !message.isEmpty }
            return false
        }
        try await admin.deletePolicy(name: "nightly")
        #expect(try await admin.policies().isEmpty)
        await server.stop()
    }

    @Test("a pinned certificate is the only one trusted: the server's own works, the system roots and another certificate do not")
    func pinning() async throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let (certificate, key) = try Self.selfSigned(in: folder, name: "server")
        let (other, _) = try Self.selfSigned(in: folder, name: "other")
        let server = try await LiveServer.start(folder: folder, tls: .init(certificate: certificate, key: key))
        #expect(try await server.adminClient(trust: .pinned(certificatePEMPath: certificate)).health().status == "ok")
        for trust in [FleetClient.Trust.system, .pinned(certificatePEMPath: other)] {
            await #expect { try await server.adminClient(trust: trust).health() } throws: { error in
                guard case FleetClientError.unreachable(_, let reason) = error else { return false }
                return reason.contains("TLS")
            }
        }
        #expect(throws: FleetClientError.self) {
            try FleetClient(server: server.url, credential: nil, trust: .pinned(certificatePEMPath: folder.appendingPathComponent("none.pem").path))
        }
        await server.stop()
    }

    /// A self-signed certificate for 127.0.0.1 (openssl), as a small site would make one.
    static func selfSigned(in folder: URL, name: String) throws -> (certificate: String, key: String) {
        let certificate = folder.appendingPathComponent("\(name).pem").path, key = folder.appendingPathComponent("\(name)-key.pem").path
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                             "-subj", "/CN=\(name)", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate]
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        #expect(openssl.terminationStatus == 0)
        return (certificate, key)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    @Sendable func increment() { lock.withLock { count += 1 } }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Bool
    init(_ value: Bool) { current = value }
    var value: Bool {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }
}
