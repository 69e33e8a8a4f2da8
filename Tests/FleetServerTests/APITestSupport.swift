import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import VBackupServer

/// A live server (a real HTTP listener on a free port) over a fresh repository, with an admin
/// credential made beforehand. Tests speak to it over HTTP only, then look in the repository
/// to see what was (or was not) stored.
struct TestServer: Sendable {
    let client: any TestClientProtocol
    let repository: any FleetRepository
    let admin: String

    static let quietLogger: Logger = {
        var logger = Logger(label: "vbackup.server.test")
        logger.logLevel = .critical
        return logger
    }()

    static func run<T: Sendable>(_ kind: TestDatabase, _ body: @escaping @Sendable (TestServer) async throws -> T) async throws -> T {
        var result: T?
        try await withRepository(kind) { repository in
            let admin = try await repository.createAdminCredential(name: "tester", now: Date())
            let configuration = ServerConfiguration(database: "test", port: 0, logger: quietLogger)
            let app = try PolicyServer.application(repository: repository, configuration: configuration)
            result = try await app.test(.live) { client in
                try await body(TestServer(client: client, repository: repository, admin: admin))
            }
        }
        guard let result else { throw TestServerError.noResult }
        return result
    }

    // MARK: Requests

    @discardableResult
    func send(_ method: HTTPRequest.Method, _ path: String, token: String? = nil, headers: HTTPFields = [:],
              body: ByteBuffer? = nil) async throws -> TestResponse {
        var fields = headers
        if let token { fields[.authorization] = "Bearer \(token)" }
        return try await client.executeRequest(uri: path, method: method, headers: fields, body: body)
    }

    @discardableResult
    func send(_ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: some Encodable) async throws -> TestResponse {
        let data = try APIJSON.encoder().encode(json)
        return try await send(method, path, token: token, headers: [.contentType: "application/json"], body: ByteBuffer(bytes: data))
    }

    /// Sends raw text as a JSON body (malformed documents, wrong types).
    @discardableResult
    func send(_ method: HTTPRequest.Method, _ path: String, token: String? = nil, rawJSON: String) async throws -> TestResponse {
        try await send(method, path, token: token, headers: [.contentType: "application/json"], body: ByteBuffer(string: rawJSON))
    }

    /// Expects `status` and decodes the body.
    func expect<T: Decodable>(_ status: HTTPResponse.Status, _ type: T.Type, _ response: TestResponse,
                              sourceLocation: SourceLocation = #_sourceLocation) throws -> T {
        #expect(response.status == status, "\(String(buffer: response.body))", sourceLocation: sourceLocation)
        return try APIJSON.decoder().decode(T.self, from: Data(response.body.readableBytesView))
    }

    /// The `APIError` line of a refusal, after checking its status.
    func refusal(_ status: HTTPResponse.Status, _ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        #expect(response.status == status, "\(String(buffer: response.body))", sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
        return try APIJSON.decoder().decode(APIError.self, from: Data(response.body.readableBytesView)).error
    }

    // MARK: Fleet set-up through the API

    func enroll(_ hostName: String, groups: [String] = []) async throws -> EnrollResponse {
        let created = try expect(.ok, EnrollmentTokenCreated.self,
                                 try await send(.post, APIPath.enrollmentTokens, token: admin, json: EnrollmentTokenRequest(groups: groups)))
        return try expect(.ok, EnrollResponse.self, try await send(
            .post, APIPath.enroll, json: EnrollRequest(token: created.token, hostName: hostName, agentVersion: "1.0")))
    }

    @discardableResult
    func apply(_ name: String, yaml: String? = nil, assignment: PolicyAssignment? = nil,
               expecting status: HTTPResponse.Status = .created) async throws -> PolicyDocument {
        let request = PolicyApplyRequest(yaml: yaml ?? TestPolicy.yaml(name), assignment: assignment)
        return try expect(status, PolicyDocument.self, try await send(.put, APIPath.policy(name), token: admin, json: request))
    }

    /// What the repository holds, counted, to show a refused request stored nothing.
    func counts() async throws -> StoredCounts {
        StoredCounts(policies: try await repository.policies().count, hosts: try await repository.hosts(now: Date()).count,
                     jobs: try await repository.jobs(JobFilter(limit: 1000)).count,
                     vms: try await repository.vms(hostID: nil, now: Date()).count)
    }
}

enum TestServerError: Error {
    case noResult
}

struct StoredCounts: Equatable, CustomStringConvertible {
    var policies: Int
    var hosts: Int
    var jobs: Int
    var vms: Int

    var description: String { "policies \(policies), hosts \(hosts), jobs \(jobs), vms \(vms)" }
}

/// Policy files the tests apply.
enum TestPolicy {
    static func yaml(_ name: String, keepLast: Int = 3, tags: [String] = ["web"]) -> String {
        """
        version: 1
        name: \(name)
        select:
          tags: [\(tags.joined(separator: ", "))]
        schedule:
          - calendar: "*-*-* 01:00"
            window: 4h
        retention:
          keep-last: \(keepLast)
        """
    }
}

/// Reports as an agent would send them.
enum TestReport {
    /// An hour ago, in whole seconds (dates travel with millisecond precision).
    static let t0 = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 - 3600).rounded(.down))

    static func job(vm: String = "web1", vmUUID: String = "6f1c2d3e-0000-4000-8000-000000000001", state: String = "succeeded",
                    jobID: String = UUID().uuidString.lowercased(), at start: Date = t0, bytes: Int64 = 1 << 30) -> AgentReport {
        let finished = start.addingTimeInterval(600)
        let point = state == "succeeded"
            ? PointReport(id: "p-\(jobID.prefix(8))", store: "/srv/store", createdAt: finished, kind: "full", logicalBytes: 4 << 30, storedBytes: bytes / 2)
            : nil
        return AgentReport(createdAt: finished, job: JobReport(
            jobID: jobID, vmUUID: vmUUID, vmName: vm, policy: "nightly", trigger: "schedule", state: state, fullBackup: true,
            queuedAt: start, startedAt: start, finishedAt: finished, bytesRead: bytes, bytesStored: bytes / 2, throttledSeconds: 0,
            overran: false, error: state == "failed" ? "disk vanished" : nil, point: point))
    }

    static func inventory(vms: [(name: String, uuid: String)] = [("web1", "6f1c2d3e-0000-4000-8000-000000000001")]) -> AgentReport {
        AgentReport(createdAt: t0, inventory: InventoryReport(
            agentVersion: "1.0", libvirtVersion: "10.0.0",
            vms: vms.map { VMReport(uuid: $0.uuid, name: $0.name, state: "running", tags: ["web"],
                                    disks: [DiskReport(target: "vda", source: "/var/lib/libvirt/images/\($0.name).qcow2", capacityBytes: 4 << 30)],
                                    policy: "nightly", maximumPointAgeSeconds: 90_000) },
            policyErrors: [], policyVersions: ["nightly": 1]))
    }

    /// One VM's drill verdict; failed ones say why.
    static func drill(vm: String = "web1", vmUUID: String = "6f1c2d3e-0000-4000-8000-000000000001", outcome: String = "passed",
                      drillID: String = "drill-\(UUID().uuidString.prefix(8).lowercased())", at finished: Date = t0) -> AgentReport {
        AgentReport(createdAt: finished, drill: DrillResultReport(
            drillID: drillID, jobID: UUID().uuidString.lowercased(), vmUUID: vmUUID, vmName: vm, pointID: "p-\(vm)",
            pointCreatedAt: finished.addingTimeInterval(-3600), startedAt: finished.addingTimeInterval(-30), finishedAt: finished,
            outcome: outcome, failure: outcome == "failed" ? "no console line matched login:" : nil,
            failedStep: outcome == "failed" ? "checks" : nil, diskMode: "overlay", runningSeconds: 1.25,
            rtoSeconds: outcome == "passed" ? 9.5 : nil,
            checks: [DrillCheckReport(kind: "console", status: outcome == "passed" ? "passed" : "failed", detail: "login:")]))
    }

    static func storeUsage(at date: Date = t0) -> AgentReport {
        AgentReport(createdAt: date, storeUsage: StoreUsageReport(store: "/srv/store", storedBytes: 1 << 30, logicalBytes: 4 << 30, points: 1))
    }
}
