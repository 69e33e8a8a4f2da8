import AsyncHTTPClient
import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import VBackupServer

/// Hostile input on every route that reads a body, path parameter or query parameter: each is
/// refused with a clear 4xx, and afterwards the database holds exactly what it held before.
@Suite struct SecurityInputTests {
    /// The routes that read a JSON body, from the OpenAPI document (itself checked against the
    /// route table).
    static let jsonRoutes: [Route] = RouteTable.routes.filter { route in
        OpenAPIDocumentTests.document["paths"]?[route.path]?[route.method.rawValue.lowercased()]?["requestBody"]?["content"]?[
            "application/json"] != nil
    }

    /// A field of the wrong type for each body, so the refusal names the field.
    static let wrongTypes: [String: (json: String, field: String)] = [
        APIPath.enroll: (#"{"token": "vbe_x", "hostName": 42, "agentVersion": "1"}"#, "hostName"),
        APIPath.agentReports: (#"{"reports": [{"id": "6f1c2d3e-0000-4000-8000-000000000001", "kind": "job", "createdAt": "yesterday"}]}"#,
                               "reports[0].createdAt"),
        APIPath.enrollmentTokens: (#"{"groups": [1]}"#, "groups[0]"),
        APIPath.policy("{name}"): (#"{"yaml": 5}"#, "yaml"),
        APIPath.policyAssignment("{name}"): (#"{"hosts": "web-*", "groups": []}"#, "hosts"),
    ]

    static let injections = [
        "' OR 1=1 --", "x'); DROP TABLE host; --", "\"; DROP TABLE policy; --", "1; SELECT pg_sleep(5)", "nightly' --",
        "1 UNION SELECT token_hash FROM admin_credential", "../../etc/passwd", "..\\..\\windows", "%2e%2e%2f", "..%2f", "..",
        "nightly\u{0}", "nightly\n", "<script>alert(1)</script>", "${jndi:ldap://x}", String(repeating: "A", count: 5000), "-1", "0",
        "99999999999999999999", "true ",
    ]

    /// The same strings as they go on the wire raw (no spaces or controls, so the request line
    /// stays valid): the router sees the dots and percent signs themselves.
    static let rawPathInjections = ["../../etc/passwd", "%2e%2e%2f", "..%2f", "..%2f..%2fetc%2fpasswd", "%2e%2e", "nightly%00", "..", "."]

    @Test func theJSONRoutesAreTheOnesWithBodies() {
        #expect(Set(Self.jsonRoutes.map { "\($0.method) \($0.path)" }) == [
            "POST \(APIPath.enroll)", "POST \(APIPath.agentReports)", "POST \(APIPath.enrollmentTokens)",
            "PUT \(APIPath.policy("{name}"))", "PUT \(APIPath.policyAssignment("{name}"))",
        ])
    }

    @Test(arguments: TestDatabase.allCases)
    func malformedBodiesAreRefusedAndNothingIsStored(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let fixture = try await AccessFixture.make(server)
            let before = try await server.repository.policy(name: AccessFixture.policy, version: nil)
            for route in Self.jsonRoutes {
                let token = fixture.token(for: route, admin: server.admin)
                let path = fixture.path(route)
                for text in ["{", "", "[]", "\"text\"", "null", "{\"reports\": ", "{}", String(repeating: "[", count: 10_000), "\u{FEFF}{}"] {
                    let message = try server.refusal(.badRequest, try await server.send(route.method, path, token: token, rawJSON: text))
                    #expect(message.hasPrefix("body"), "\(route.method) \(route.path) \(text.prefix(20)): \(message)")
                }
                let (json, field) = try #require(Self.wrongTypes[route.path])
                let message = try server.refusal(.badRequest, try await server.send(route.method, path, token: token, rawJSON: json))
                #expect(message.contains("'\(field)'"), "\(route.method) \(route.path): \(message)")

                let body = ByteBuffer(string: "{}")
                for contentType in [nil, "text/plain", "application/x-www-form-urlencoded", "application/jsonx"] {
                    let headers: HTTPFields = contentType.map { [.contentType: $0] } ?? [:]
                    _ = try server.refusal(.unsupportedMediaType, try await server.send(route.method, path, token: token, headers: headers, body: body))
                }
            }
            #expect(try await server.counts() == fixture.counts)
            #expect(try await server.repository.policy(name: AccessFixture.policy, version: nil) == before)
        }
    }

    /// 5 MiB, once with Content-Length (refused before reading) and once chunked (refused while
    /// reading, once past 4 MiB).
    @Test(arguments: TestDatabase.allCases)
    func oversizedBodiesAre413AndNothingIsStored(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let fixture = try await AccessFixture.make(server)
            let port = try #require(server.client.port)
            let huge = #"{"yaml": ""# + String(repeating: "a", count: 5 << 20) + #""}"#
            for route in Self.jsonRoutes {
                let token = fixture.token(for: route, admin: server.admin)
                let message = try server.refusal(.contentTooLarge, try await server.send(route.method, fixture.path(route), token: token, rawJSON: huge))
                #expect(message.contains("\(maximumRequestBodyBytes)"))
                let chunked = try await Chunked.send(route.method, port: port, path: fixture.path(route), token: token, body: huge)
                #expect(chunked == 413, "\(route.method) \(route.path) chunked: \(chunked)")
            }
            // A route that reads no body still refuses an announced giant.
            let revoke = try await server.send(.post, APIPath.hostRevoke(fixture.host.hostID), token: server.admin, rawJSON: huge)
            #expect(revoke.status == .contentTooLarge)
            #expect(try await server.counts() == fixture.counts)
            #expect(try await server.repository.hosts(now: Date()).allSatisfy { !$0.revoked })
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aBatchWithOneBadReportStoresNoneOfIt(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let fixture = try await AccessFixture.make(server)
            var wrongPayload = TestReport.job()
            wrongPayload.inventory = TestReport.inventory().inventory
            var noPayload = TestReport.job()
            noPayload.job = nil
            var badID = TestReport.job()
            badID.id = "not-a-uuid"
            let tooMany = (0...maximumReportsPerBatch).map { _ in TestReport.storeUsage() }
            for reports in [[TestReport.job(), wrongPayload], [TestReport.inventory(), noPayload], [TestReport.job(), badID], tooMany] {
                _ = try server.refusal(.badRequest, try await server.send(
                    .post, APIPath.agentReports, token: fixture.host.credential, json: ReportBatch(reports: reports)))
            }
            #expect(try await server.counts() == fixture.counts)
            #expect(try await server.repository.storeUsage(since: .distantPast).isEmpty)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func injectionAndTraversalInEveryPathParameterIsRefused(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let fixture = try await AccessFixture.make(server)
            let before = try await server.repository.policy(name: AccessFixture.policy, version: nil)
            for route in RouteTable.routes where route.path.contains("{") {
                let token = fixture.token(for: route, admin: server.admin)
                let values = Self.injections.map(Self.percentEncoded) + Self.rawPathInjections
                for value in values {
                    for parameter in ["name", "id", "version"] where route.path.contains("{\(parameter)}") {
                        let path = fixture.path(route, name: parameter == "name" ? value : AccessFixture.policy,
                                                id: parameter == "id" ? value : nil, version: parameter == "version" ? value : "1")
                        let response = try await server.send(route.method, path, token: token, json: Self.validBody(for: route))
                        #expect([400, 404].contains(response.status.code), "\(route.method) \(path): \(response.status)")
                        #expect(response.headers[.contentType] == "application/json", "\(path)")
                    }
                }
            }
            #expect(try await server.repository.policy(name: AccessFixture.policy, version: nil) == before)
            #expect(try await server.counts() == fixture.counts)
            #expect(try await server.send(.get, APIPath.policy(AccessFixture.policy), token: server.admin).status == .ok)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func injectionInEveryQueryParameterIsRefused(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let fixture = try await AccessFixture.make(server)
            for route in RouteTable.routes where !route.query.isEmpty {
                for parameter in route.query {
                    for value in Self.injections + ["", "1000000", "1001", "367", "TRUE", "yes", "Running"] where !Self.valid(value, parameter) {
                        let path = fixture.path(route) + "?\(parameter.rawValue)=\(Self.percentEncoded(value))"
                        let message = try server.refusal(.badRequest, try await server.send(route.method, path, token: server.admin))
                        #expect(message.contains("'\(parameter.rawValue)'"), "\(path): \(message)")
                    }
                }
                for query in ["?unknown=1", "?limit=1&limit=2", "?host%27%20OR%201=1=1", "?%00=1"] {
                    _ = try server.refusal(.badRequest, try await server.send(route.method, fixture.path(route) + query, token: server.admin))
                }
            }
            #expect(try await server.counts() == fixture.counts)
            #expect(try await server.send(.get, APIPath.policy(AccessFixture.policy), token: server.admin).status == .ok)
        }
    }

    /// Host B sees nothing of host A, whatever A's reports claim.
    @Test(arguments: TestDatabase.allCases)
    func oneHostsReportsNeverShowUnderAnother(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let a = try await server.enroll("hv-a")
            let b = try await server.enroll("hv-b")
            let job = TestReport.job(vm: "web1")
            // A claims to be B in a field the API does not have: it is ignored, not trusted.
            var batch = try JSONSerialization.jsonObject(with: try APIJSON.encoder().encode(
                ReportBatch(reports: [TestReport.inventory(), job, TestReport.storeUsage()]))) as? [String: Any] ?? [:]
            batch["hostID"] = b.hostID
            let body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: batch))
            #expect(try await server.send(.post, APIPath.agentReports, token: a.credential,
                                          headers: [.contentType: "application/json"], body: body).status == .ok)
            try await server.send(.post, APIPath.agentReports, token: b.credential,
                                  json: ReportBatch(reports: [TestReport.inventory(vms: [("db1", "6f1c2d3e-0000-4000-8000-0000000000b1")])]))

            let admin = server.admin
            let bJobs = try server.expect(.ok, [JobInfo].self, try await server.send(.get, APIPath.jobs + "?host=\(b.hostID)", token: admin))
            #expect(bJobs.isEmpty)
            let aJobs = try server.expect(.ok, [JobInfo].self, try await server.send(.get, APIPath.jobs + "?host=\(a.hostID)", token: admin))
            #expect(aJobs.map(\.hostID) == [a.hostID])
            let bVMs = try server.expect(.ok, [VMInfo].self, try await server.send(.get, APIPath.vms + "?host=\(b.hostID)", token: admin))
            #expect(bVMs.map(\.name) == ["db1"])
            let bPoints = try server.expect(.ok, [PointInfo].self, try await server.send(.get, APIPath.points + "?host=\(b.hostID)", token: admin))
            #expect(bPoints.isEmpty)
            let bDetail = try server.expect(.ok, HostDetail.self, try await server.send(.get, APIPath.host(b.hostID), token: admin))
            #expect(bDetail.vms.map(\.name) == ["db1"])
            let usage = try server.expect(.ok, [StoreUsageInfo].self, try await server.send(.get, APIPath.storeUsage, token: admin))
            #expect(usage.map(\.hostID) == [a.hostID])
        }
    }

    /// The engines' own words (tables, columns, SQL) never reach a client, whichever status.
    @Test func databaseWordingStaysInTheServer() {
        let failures = [
            APIFailure(FleetError.conflict("SQLite: UNIQUE constraint failed: hosts.name")),
            APIFailure(FleetError.conflict(#"PostgreSQL: duplicate key value violates unique constraint "hosts_name_key""#)),
            APIFailure(FleetError.database("SQLite: no such table: policy_versions (SELECT * FROM policy_versions)")),
            APIFailure(FleetError.database("PostgreSQL: connection refused 127.0.0.1:5432 user vbackup")),
        ]
        #expect(failures.map(\.status.code) == [409, 409, 503, 503])
        for failure in failures {
            for word in ["sqlite", "postgresql", "hosts", "select", "table", "5432", "vbackup"] {
                #expect(!failure.message.lowercased().contains(word), "\(failure.message)")
            }
        }
        #expect(APIFailure(FleetError.conflict("host hv1 is already enrolled; revoke it first")).message.contains("hv1"))
    }

    /// Random bytes as bodies: never a 5xx, never a dropped connection.
    @Test(arguments: TestDatabase.allCases)
    func randomBodiesNeverCrashTheServer(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let fixture = try await AccessFixture.make(server)
            var generator = SplitMix64(seed: 42)
            for route in Self.jsonRoutes {
                for length in [1, 7, 64, 500, 4096] {
                    let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    let response = try await server.send(route.method, fixture.path(route), token: fixture.token(for: route, admin: server.admin),
                                                         headers: [.contentType: "application/json"], body: ByteBuffer(bytes: bytes))
                    #expect((400..<500).contains(response.status.code), "\(route.method) \(route.path): \(response.status)")
                }
            }
            #expect(try await server.counts() == fixture.counts)
        }
    }

    // MARK: -

    static func percentEncoded(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"))
            ?? ""
    }

    /// A body the route would accept, so only the parameter under test is wrong.
    static func validBody(for route: Route) -> PolicyApplyRequest? {
        route.method == .put && route.path == APIPath.policy("{name}") ? PolicyApplyRequest(yaml: TestPolicy.yaml("nightly")) : nil
    }

    /// The few values of the list a parameter does accept ("0" is not a valid limit, but "-1"...).
    static func valid(_ value: String, _ parameter: QueryParameter) -> Bool {
        (try? Query([(parameter.rawValue, value)], accepted: QueryParameter.allCases)) != nil
    }
}

extension AccessFixture {
    func token(for route: Route, admin: String) -> String? {
        switch route.access {
        case .admin: admin
        case .host: host.credential
        default: nil
        }
    }
}

/// A request whose body goes out in chunks without a Content-Length, as a streaming client
/// sends it; the server must cut it off by counting.
enum Chunked {
    static func send(_ method: HTTPRequest.Method, port: Int, path: String, token: String?, body: String) async throws -> Int {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .init(rawValue: method.rawValue)
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let bytes = Array(body.utf8)
        let chunks = stride(from: 0, to: bytes.count, by: 64 * 1024).map { ByteBuffer(bytes: bytes[$0..<min($0 + 64 * 1024, bytes.count)]) }
        request.body = .stream(chunks.async, length: .unknown)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            try await client.shutdown()
            return Int(response.status.code)
        } catch {
            try await client.shutdown()
            throw error
        }
    }
}

/// Array → AsyncSequence, for a streamed request body.
extension Array where Element: Sendable {
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}

/// A seeded generator, so a failing random body can be found again.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
