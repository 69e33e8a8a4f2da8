import AsyncHTTPClient
import FleetAPI
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The benchmark's admin side: applies the policy, makes enrollment tokens, enrolls hosts.
struct Admin: Sendable {
    let server: String
    let token: String
    let client: HTTPClient

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func call<Body: Encodable, Result: Decodable>(_ method: HTTPMethod, _ path: String, _ body: Body,
                                                  bearer: String?, as: Result.Type) async throws -> Result {
        var request = HTTPClientRequest(url: server + path)
        request.method = method
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: try APIJSON.encoder().encode(body)))
        let response = try await client.execute(request, timeout: .seconds(60))
        let data = Data(buffer: try await response.body.collect(upTo: 16 << 20))
        guard (200..<300).contains(response.status.code) else {
            throw Failure(description: "\(method) \(path): HTTP \(response.status.code) \(String(decoding: data, as: UTF8.self))")
        }
        return try APIJSON.decoder().decode(Result.self, from: data)
    }

    func apply(policyYAML: String, name: String) async throws -> PolicyDocument {
        try await call(.PUT, APIPath.policy(name), PolicyApplyRequest(yaml: policyYAML), bearer: token, as: PolicyDocument.self)
    }

    /// Enrolls `count` hosts, `parallel` at a time; returns their credentials.
    /// Host names carry `run`, so a second run against the same database enrolls new hosts.
    func enroll(count: Int, parallel: Int, run: String, log: LatencyLog) async throws -> [String] {
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var credentials = [String](repeating: "", count: count)
            var next = 0
            func add() {
                let index = next
                next += 1
                group.addTask {
                    let created = try await call(.POST, APIPath.enrollmentTokens, EnrollmentTokenRequest(hostName: "bench-\(run)-\(index)"),
                                                 bearer: token, as: EnrollmentTokenCreated.self)
                    let started = Date()
                    let enrolled = try await call(.POST, APIPath.enroll,
                                                  EnrollRequest(token: created.token, hostName: "bench-\(run)-\(index)", agentVersion: "bench"),
                                                  bearer: nil, as: EnrollResponse.self)
                    log.record("enroll", seconds: Date().timeIntervalSince(started))
                    return (index, enrolled.credential)
                }
            }
            for _ in 0..<min(parallel, count) { add() }
            while let (index, credential) = try await group.next() {
                credentials[index] = credential
                if next < count { add() }
            }
            return credentials
        }
    }
}
