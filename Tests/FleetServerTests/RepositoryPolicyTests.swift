import FleetAPI
@testable import FleetDatabase
import Foundation
import Testing

@Suite("Repository: policies, assignments and bundles")
struct RepositoryPolicyTests {
    static let nightlyV1 = "format: 1\nname: nightly\n"
    static let nightlyV2 = "format: 1\nname: nightly\n# keep 14\n"

    @Test("a version is made only when the text changes, and the history keeps every one", arguments: TestDatabase.allCases)
    func versions(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let (first, created) = try await repository.putPolicy(
                name: "nightly", yaml: Self.nightlyV1, assignment: nil, author: "alice", now: testNow)
            #expect(created)
            #expect(first == PolicyDocument(name: "nightly", version: 1, yaml: Self.nightlyV1,
                                            sha256: Secrets.sha256Hex(Data(Self.nightlyV1.utf8)),
                                            assignment: .everyHost, createdAt: testNow, author: "alice"))

            let same = try await repository.putPolicy(name: "nightly", yaml: Self.nightlyV1, assignment: nil, author: "bob",
                                                      now: testNow + 60)
            #expect(!same.created && same.document == first)

            let (second, changed) = try await repository.putPolicy(
                name: "nightly", yaml: Self.nightlyV2, assignment: nil, author: "bob", now: testNow + 120)
            #expect(changed && second.version == 2 && second.author == "bob" && second.assignment == .everyHost)

            #expect(try await repository.policyVersions(name: "nightly").map { [$0.version, $0.author] as [AnyHashable] }
                == [[1, "alice"], [2, "bob"]])
            #expect(try await repository.policy(name: "nightly", version: nil) == second)
            #expect(try await repository.policy(name: "nightly", version: 1) == first)
            await #expect(throws: FleetError.notFound("policy nightly has no version 3")) {
                try await repository.policy(name: "nightly", version: 3)
            }
            await #expect(throws: FleetError.notFound("no policy named weekly")) {
                try await repository.policy(name: "weekly", version: nil)
            }
            await #expect(throws: FleetError.notFound("no policy named weekly")) {
                try await repository.policyVersions(name: "weekly")
            }
        }
    }

    @Test("an assignment is kept when a policy is re-applied without one, and counts the live hosts it reaches",
          arguments: TestDatabase.allCases)
    func assignment(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            _ = try await repository.enrollTestHost("web1")
            _ = try await repository.enrollTestHost("web22")
            _ = try await repository.enrollTestHost("db1", groups: ["databases"])
            let gone = try await repository.enrollTestHost("web3")
            _ = try await repository.revokeHost(id: gone.hostID, now: testNow)

            let web = PolicyAssignment(hosts: ["web?"], groups: ["databases"])
            _ = try await repository.putPolicy(name: "nightly", yaml: Self.nightlyV1, assignment: web, author: "a", now: testNow)
            let reapplied = try await repository.putPolicy(name: "nightly", yaml: Self.nightlyV2, assignment: nil, author: "a",
                                                           now: testNow + 1)
            #expect(reapplied.document.assignment == web)
            _ = try await repository.putPolicy(name: "all", yaml: "format: 1\nname: all\n", assignment: nil, author: "a",
                                               now: testNow)

            let summaries = try await repository.policies()
            #expect(summaries.map(\.name) == ["all", "nightly"])
            #expect(summaries.map(\.hostCount) == [3, 2])
            #expect(summaries[1].version == 2 && summaries[1].updatedAt == testNow + 1)

            let moved = try await repository.setAssignment(policy: "nightly", PolicyAssignment(hosts: ["web*"]), now: testNow + 2)
            #expect(moved.assignment == PolicyAssignment(hosts: ["web*"]) && moved.version == 2)
            #expect(try await repository.policies().map(\.hostCount) == [3, 2])
            let sameText = try await repository.putPolicy(name: "nightly", yaml: Self.nightlyV2,
                                                          assignment: PolicyAssignment(groups: ["databases"]), author: "a",
                                                          now: testNow + 3)
            #expect(!sameText.created && sameText.document.assignment == PolicyAssignment(groups: ["databases"]))
            #expect(try await repository.policies().map(\.hostCount) == [3, 1])
            await #expect(throws: FleetError.notFound("no policy named weekly")) {
                try await repository.setAssignment(policy: "weekly", .everyHost, now: testNow)
            }
        }
    }

    @Test("a host's bundle etag changes exactly when its own set of policies changes", arguments: TestDatabase.allCases)
    func bundleEtag(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let web = try await repository.enrollTestHost("web1")
            let db = try await repository.enrollTestHost("db1", groups: ["databases"])
            let empty = try await repository.policyBundle(hostID: web.hostID)
            #expect(empty.policies.isEmpty && empty.etag == Secrets.sha256Hex(Data()))

            _ = try await repository.putPolicy(name: "nightly", yaml: Self.nightlyV1, assignment: PolicyAssignment(hosts: ["web*"]),
                                               author: "a", now: testNow)
            let withNightly = try await repository.policyBundle(hostID: web.hostID)
            #expect(withNightly.policies == [PolicyBundle.Entry(name: "nightly", version: 1, yaml: Self.nightlyV1,
                                                                sha256: Secrets.sha256Hex(Data(Self.nightlyV1.utf8)))])
            #expect(withNightly.etag != empty.etag)
            #expect(try await repository.policyBundle(hostID: db.hostID).etag == empty.etag)

            // Unchanged for web1: the same text again, and another host's policy and assignment.
            _ = try await repository.putPolicy(name: "nightly", yaml: Self.nightlyV1, assignment: nil, author: "a", now: testNow)
            _ = try await repository.putPolicy(name: "dbs", yaml: "format: 1\nname: dbs\n",
                                               assignment: PolicyAssignment(groups: ["databases"]), author: "a", now: testNow)
            _ = try await repository.setAssignment(policy: "dbs", PolicyAssignment(hosts: ["db*"]), now: testNow)
            #expect(try await repository.policyBundle(hostID: web.hostID) == withNightly)
            #expect(try await repository.policyBundle(hostID: db.hostID).policies.map(\.name) == ["dbs"])

            // Changed: a new version, then an assignment that drops the host, then one that adds it again.
            _ = try await repository.putPolicy(name: "nightly", yaml: Self.nightlyV2, assignment: nil, author: "a", now: testNow)
            let updated = try await repository.policyBundle(hostID: web.hostID)
            #expect(updated.etag != withNightly.etag && updated.policies.map(\.version) == [2])
            _ = try await repository.setAssignment(policy: "nightly", PolicyAssignment(hosts: ["db1"]), now: testNow)
            #expect(try await repository.policyBundle(hostID: web.hostID).etag == empty.etag)
            _ = try await repository.setAssignment(policy: "dbs", PolicyAssignment(hosts: ["*"]), now: testNow)
            let both = try await repository.policyBundle(hostID: web.hostID)
            #expect(both.policies.map(\.name) == ["dbs"])
            _ = try await repository.setAssignment(policy: "nightly", .everyHost, now: testNow)
            let sorted = try await repository.policyBundle(hostID: web.hostID)
            #expect(sorted.policies.map(\.name) == ["dbs", "nightly"])
            #expect(sorted.etag == FleetRules.bundleEtag(sorted.policies))
            #expect(sorted.etag != both.etag && sorted.etag != updated.etag)

            try await repository.deletePolicy(name: "dbs", now: testNow)
            #expect(try await repository.policyBundle(hostID: web.hostID) == updated)
            await #expect(throws: FleetError.notFound("no host with id ghost")) {
                try await repository.policyBundle(hostID: "ghost")
            }
        }
    }

    @Test("a deleted policy leaves every list; created again, it continues its version numbers",
          arguments: TestDatabase.allCases)
    func delete(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            _ = try await repository.putPolicy(name: "nightly", yaml: Self.nightlyV1, assignment: nil, author: "a", now: testNow)
            _ = try await repository.putPolicy(name: "nightly", yaml: Self.nightlyV2, assignment: nil, author: "a", now: testNow)
            try await repository.deletePolicy(name: "nightly", now: testNow)
            #expect(try await repository.policies().isEmpty)
            await #expect(throws: FleetError.notFound("no policy named nightly")) {
                try await repository.policy(name: "nightly", version: nil)
            }
            await #expect(throws: FleetError.notFound("no policy named nightly")) {
                try await repository.deletePolicy(name: "nightly", now: testNow)
            }
            let again = try await repository.putPolicy(name: "nightly", yaml: Self.nightlyV1, assignment: nil, author: "b",
                                                       now: testNow + 5)
            #expect(again.created && again.document.version == 3 && again.document.createdAt == testNow + 5)
            #expect(try await repository.policyVersions(name: "nightly").map(\.version) == [1, 2, 3])
        }
    }

    @Test("names, text and authors that look like SQL are stored and returned verbatim", arguments: TestDatabase.allCases)
    func injection(kind: TestDatabase) async throws {
        let hostile = ["x'); DROP TABLE policies; --", "Robert\"; DELETE FROM hosts; --", "? $1 $2 '?' \"?\"", "naïve ✓ 名前 \\ %_"]
        try await withRepository(kind) { repository in
            for (index, text) in hostile.enumerated() {
                let yaml = "format: 1\nname: '\(text)'\n# \(text)\n"
                let put = try await repository.putPolicy(name: text, yaml: yaml, assignment: PolicyAssignment(hosts: [text], groups: [text]),
                                                         author: text, now: testNow + Double(index))
                #expect(put.document.name == text && put.document.yaml == yaml && put.document.author == text)
                #expect(try await repository.policy(name: text, version: 1) == put.document)
            }
            #expect(try await repository.policies().map(\.name) == hostile.sorted())

            let host = try await repository.enrollTestHost(hostile[0], groups: [hostile[1]])
            #expect(try await repository.policyBundle(hostID: host.hostID).policies.map(\.name) == [hostile[0], hostile[1]].sorted())
            let vm = VMReport(uuid: hostile[2], name: hostile[3], state: hostile[0], tags: hostile, disks: [], policy: hostile[1],
                              maximumPointAgeSeconds: nil)
            _ = try await repository.record(ReportBatch(reports: [
                AgentReport(id: hostile[0], createdAt: testNow, inventory: testInventory([vm], policyErrors: hostile)),
                AgentReport(id: hostile[1], createdAt: testNow, job: testJob(hostile[2], vm: hostile[3], error: hostile[0])),
            ]), hostID: host.hostID, now: testNow)
            let detail = try await repository.host(id: host.hostID, now: testNow)
            #expect(detail.host.name == hostile[0] && detail.host.groups == [hostile[1]] && detail.host.policyErrors == hostile)
            #expect(detail.vms.map { [$0.uuid, $0.name, $0.state, $0.policy] } == [[hostile[2], hostile[3], hostile[0], hostile[1]]])
            #expect(detail.vms.first?.tags == hostile)
            let jobs = try await repository.jobs(JobFilter(vm: hostile[3]))
            #expect(jobs.map(\.id) == [hostile[2]] && jobs.first?.error == hostile[0])
            #expect(try await repository.policies().count == hostile.count)
        }
    }

    @Test("host globs: * is any run, ? one character, the rest literal")
    func globs() {
        let cases: [(String, String, Bool)] = [
            ("*", "", true), ("*", "web1", true), ("web*", "web", true), ("web*", "web12", true), ("web*", "db1", false),
            ("web?", "web1", true), ("web?", "web", false), ("web?", "web12", false), ("*-db-*", "eu-db-1", true),
            ("*-db-*", "eu-db", false), ("a*b*c", "aXXbYYc", true), ("a*b*c", "aXXcYYb", false), ("web.1", "webx1", false),
            ("[ab]", "a", false), ("[ab]", "[ab]", true), ("", "", true), ("", "x", false),
        ]
        for (pattern, name, expected) in cases {
            #expect(FleetRules.glob(pattern, matches: name) == expected, "\(pattern) ~ \(name)")
        }
    }
}
