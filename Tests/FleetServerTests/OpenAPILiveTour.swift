import FleetAPI
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A walk through every route with valid requests, in an order that gives each something to
/// return (a policy before its versions, reports before the reads, revoke and delete last).
enum LiveTour {
    static func run(_ server: TestServer) async throws -> [Exchange] {
        var log: [Exchange] = []
        func call(_ method: HTTPRequest.Method, _ template: String, _ path: String? = nil, token: String? = nil,
                  headers: HTTPFields = [:], json: (any Encodable)? = nil, form: String? = nil) async throws -> TestResponse {
            var fields = headers
            var body: ByteBuffer?
            if let json {
                fields[.contentType] = "application/json"
                body = ByteBuffer(bytes: try APIJSON.encoder().encode(json))
            }
            if let form {
                fields[.contentType] = "application/x-www-form-urlencoded"
                body = ByteBuffer(string: form)
            }
            let response = try await server.send(method, path ?? template, token: token, headers: fields, body: body)
            log.append(Exchange(method: method, template: template, status: Int(response.status.code),
                                contentType: response.headers[.contentType], body: Data(response.body.readableBytesView)))
            return response
        }
        let admin = server.admin

        _ = try await call(.get, APIPath.health)
        _ = try await call(.get, APIPath.openapi)
        let created = try APIJSON.decoder().decode(EnrollmentTokenCreated.self, from: Data(try await call(
            .post, APIPath.enrollmentTokens, token: admin, json: EnrollmentTokenRequest(hostName: "hv1", groups: ["prod"]))
            .body.readableBytesView))
        let host = try APIJSON.decoder().decode(EnrollResponse.self, from: Data(try await call(
            .post, APIPath.enroll, json: EnrollRequest(token: created.token, hostName: "hv1", agentVersion: "1.0")).body.readableBytesView))

        let name = APIPath.policy("{name}")
        _ = try await call(.put, name, APIPath.policy("nightly"), token: admin, json: PolicyApplyRequest(yaml: TestPolicy.yaml("nightly")))
        _ = try await call(.put, name, APIPath.policy("nightly"), token: admin, json: PolicyApplyRequest(yaml: TestPolicy.yaml("nightly")))
        _ = try await call(.get, APIPath.policies, token: admin)
        _ = try await call(.get, name, APIPath.policy("nightly"), token: admin)
        _ = try await call(.get, APIPath.policyVersions("{name}"), APIPath.policyVersions("nightly"), token: admin)
        _ = try await call(.get, APIPath.policyVersions("{name}") + "/{version}", APIPath.policyVersion("nightly", 1), token: admin)
        _ = try await call(.put, APIPath.policyAssignment("{name}"), APIPath.policyAssignment("nightly"), token: admin,
                           json: PolicyAssignment(hosts: ["hv*"], groups: ["prod"]))

        let bundle = try await call(.get, APIPath.agentPolicies, token: host.credential)
        _ = try await call(.get, APIPath.agentPolicies, token: host.credential, headers: [.ifNoneMatch: bundle.headers[.eTag] ?? ""])
        let reports = [TestReport.inventory(), TestReport.job(), TestReport.job(vm: "web1", state: "failed"), TestReport.storeUsage(),
                       TestReport.drill(), TestReport.drill(outcome: "failed", at: TestReport.t0.addingTimeInterval(60))]
        _ = try await call(.post, APIPath.agentReports, token: host.credential, json: ReportBatch(reports: reports))

        _ = try await call(.get, APIPath.hosts, token: admin)
        _ = try await call(.get, APIPath.host("{id}"), APIPath.host(host.hostID), token: admin)
        _ = try await call(.get, APIPath.vms, APIPath.vms + "?host=\(host.hostID)", token: admin)
        _ = try await call(.get, APIPath.jobs, APIPath.jobs + "?failed=false&host=\(host.hostID)&vm=web1&limit=10", token: admin)
        _ = try await call(.get, APIPath.points, APIPath.points + "?vm=web1&limit=5", token: admin)
        _ = try await call(.get, APIPath.drills, APIPath.drills + "?host=\(host.hostID)&vm=web1&failed=false&limit=10", token: admin)
        _ = try await call(.get, APIPath.storeUsage, APIPath.storeUsage + "?days=7", token: admin)

        _ = try await call(.get, "/")
        _ = try await call(.get, "/login")
        let login = try await call(.post, "/login", form: "token=\(admin)")
        let cookie = try #require(login.headers[.setCookie]?.split(separator: ";").first.map(String.init))
        _ = try await call(.get, "/", headers: [.cookie: cookie])
        _ = try await call(.post, "/logout", headers: [.cookie: cookie])

        _ = try await call(.post, APIPath.hostRevoke("{id}"), APIPath.hostRevoke(host.hostID), token: admin)
        _ = try await call(.delete, name, APIPath.policy("nightly"), token: admin)
        return log
    }
}
