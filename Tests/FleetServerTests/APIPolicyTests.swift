import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// An admin applies, reads, reassigns and deletes policies; agents receive them in a bundle
/// whose ETag makes an unchanged poll cost nothing.
@Suite struct APIPolicyTests {
    @Test(arguments: TestDatabase.allCases)
    func applyingTheSameTextTwiceMakesOneVersionAndNewTextTheNext(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let first = try await server.apply("nightly")
            #expect(first.version == 1)
            #expect(first.author == "tester")
            #expect(first.assignment == .everyHost)
            #expect(try await server.apply("nightly", expecting: .ok).version == 1)
            let second = try await server.apply("nightly", yaml: TestPolicy.yaml("nightly", keepLast: 5))
            #expect(second.version == 2)
            #expect(second.yaml.contains("keep-last: 5"))
            #expect(second.sha256 != first.sha256)

            let current = try server.expect(.ok, PolicyDocument.self, try await server.send(.get, APIPath.policy("nightly"), token: server.admin))
            #expect(current.version == 2)
            let history = try server.expect(.ok, [PolicyVersionInfo].self,
                                            try await server.send(.get, APIPath.policyVersions("nightly"), token: server.admin))
            #expect(history.map(\.version) == [1, 2])
            #expect(history.map(\.sha256) == [first.sha256, second.sha256])
            let old = try server.expect(.ok, PolicyDocument.self,
                                        try await server.send(.get, APIPath.policyVersion("nightly", 1), token: server.admin))
            #expect(old.yaml == TestPolicy.yaml("nightly"))
            let summaries = try server.expect(.ok, [PolicySummary].self, try await server.send(.get, APIPath.policies, token: server.admin))
            #expect(summaries.map(\.name) == ["nightly"])
            #expect(summaries.first?.version == 2)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func anAssignmentIsKeptUntilChanged(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            try await server.apply("web", assignment: PolicyAssignment(hosts: ["web-*"]))
            let assigned = try server.expect(.ok, PolicyDocument.self, try await server.send(
                .put, APIPath.policyAssignment("web"), token: server.admin, json: PolicyAssignment(hosts: ["hv-*"], groups: ["prod"])))
            #expect(assigned.assignment == PolicyAssignment(hosts: ["hv-*"], groups: ["prod"]))
            #expect(assigned.version == 1)
            // New text without an assignment keeps the one in force.
            let updated = try await server.apply("web", yaml: TestPolicy.yaml("web", keepLast: 9))
            #expect(updated.assignment == PolicyAssignment(hosts: ["hv-*"], groups: ["prod"]))
            #expect(try await server.repository.policy(name: "web", version: nil).assignment == updated.assignment)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aPolicyWithErrorsIsRefusedWithEveryErrorAndNotStored(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let yaml = """
                version: 1
                name: broken
                priority: 500
                retention:
                  keep-lots: 3
                """
            let message = try server.refusal(.badRequest, try await server.send(
                .put, APIPath.policy("broken"), token: server.admin, json: PolicyApplyRequest(yaml: yaml)))
            #expect(message.contains("policy file broken:3:"), "\(message)")
            #expect(message.contains("policy file broken:5:"), "\(message)")
            #expect(!message.contains("\n"))

            let misnamed = try server.refusal(.badRequest, try await server.send(
                .put, APIPath.policy("other"), token: server.admin, json: PolicyApplyRequest(yaml: TestPolicy.yaml("nightly"))))
            #expect(misnamed.contains("'nightly' differs from 'other'"), "\(misnamed)")

            let badGlob = try server.refusal(.badRequest, try await server.send(
                .put, APIPath.policy("nightly"), token: server.admin,
                json: PolicyApplyRequest(yaml: TestPolicy.yaml("nightly"), assignment: PolicyAssignment(hosts: [""]))))
            #expect(badGlob.contains("assignment.hosts[0]"), "\(badGlob)")
            let tooMany = PolicyAssignment(groups: (0...100).map { "g\($0)" })
            let many = try server.refusal(.badRequest, try await server.send(
                .put, APIPath.policyAssignment("nightly"), token: server.admin, json: tooMany))
            #expect(many.contains("assignment.groups"), "\(many)")
            #expect(try await server.repository.policies().isEmpty)
        }
    }

    @Test(arguments: TestDatabase.allCases)
    func aDeletedPolicyIsGone(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            try await server.apply("nightly")
            let deleted = try await server.send(.delete, APIPath.policy("nightly"), token: server.admin)
            #expect(deleted.status == .noContent)
            #expect(deleted.body.readableBytes == 0)
            _ = try server.refusal(.notFound, try await server.send(.get, APIPath.policy("nightly"), token: server.admin))
            _ = try server.refusal(.notFound, try await server.send(.delete, APIPath.policy("nightly"), token: server.admin))
            _ = try server.refusal(.notFound, try await server.send(.get, APIPath.policyVersion("nightly", 1), token: server.admin))
            #expect(try await server.repository.policies().isEmpty)
        }
    }

    /// The poll: 200 with the bundle and its ETag, 304 with no body while nothing changes, 200
    /// again once a policy changes.
    @Test(arguments: TestDatabase.allCases)
    func anUnchangedBundleIsA304WithoutBody(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let host = try await server.enroll("hv1")
            try await server.apply("nightly")
            let first = try await server.send(.get, APIPath.agentPolicies, token: host.credential)
            let bundle = try server.expect(.ok, PolicyBundle.self, first)
            #expect(bundle.policies.map(\.name) == ["nightly"])
            #expect(bundle.policies.first?.yaml == TestPolicy.yaml("nightly"))
            #expect(first.headers[.eTag] == "\"\(bundle.etag)\"")

            let again = try await server.send(.get, APIPath.agentPolicies, token: host.credential,
                                              headers: [.ifNoneMatch: "\"\(bundle.etag)\""])
            #expect(again.status == .notModified)
            #expect(again.body.readableBytes == 0)
            #expect(again.headers[.eTag] == "\"\(bundle.etag)\"")
            let stale = try await server.send(.get, APIPath.agentPolicies, token: host.credential, headers: [.ifNoneMatch: "\"other\""])
            #expect(stale.status == .ok)

            try await server.apply("nightly", yaml: TestPolicy.yaml("nightly", keepLast: 7))
            let changed = try await server.send(.get, APIPath.agentPolicies, token: host.credential,
                                                headers: [.ifNoneMatch: "\"\(bundle.etag)\""])
            let newBundle = try server.expect(.ok, PolicyBundle.self, changed)
            #expect(newBundle.etag != bundle.etag)
            #expect(newBundle.policies.first?.version == 2)
        }
    }
}
