import FleetAPI
import FleetDatabase
import Foundation
import Testing

/// Races a server with several instances (or one busy instance) runs into.
@Suite("Repository: concurrent requests")
struct RepositoryConcurrencyTests {
    /// Runs `body` `count` times at once and returns each outcome.
    static func race<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) async throws -> T) async -> [Result<T, FleetError>] {
        await withTaskGroup(of: Result<T, FleetError>.self) { group in
            for index in 0..<count {
                group.addTask {
                    do {
                        return .success(try await body(index))
                    } catch {
                        return .failure(error as? FleetError ?? .database("\(error)"))
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test("two tokens enrolling one new name at once: one host, the other a conflict", arguments: TestDatabase.allCases)
    func sameNameRace(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            var tokens: [String] = []
            for _ in 0..<4 {
                tokens.append(try await repository.createEnrollmentToken(EnrollmentTokenRequest(), now: testNow).token)
            }
            let outcomes = await Self.race(tokens.count) { [tokens] index in
                try await repository.enroll(EnrollRequest(token: tokens[index], hostName: "web1", agentVersion: "1"), now: testNow)
            }
            let failures = outcomes.compactMap { if case .failure(let error) = $0 { error } else { nil } }
            #expect(failures.count == tokens.count - 1)
            #expect(failures.allSatisfy { $0 == .conflict("host web1 is already enrolled; revoke it first") }, "\(failures)")
            #expect(try await repository.hosts(now: testNow).count == 1)
        }
    }

    @Test("policies applied at once: each succeeds or is a conflict, and the versions have no gap",
          arguments: TestDatabase.allCases)
    func policyRace(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let outcomes = await Self.race(6) { index in
                try await repository.putPolicy(name: "nightly", yaml: "format: 1\nname: nightly\n# \(index)\n",
                                               assignment: nil, author: "admin\(index)", now: testNow)
            }
            let failures = outcomes.compactMap { if case .failure(let error) = $0 { error } else { nil } }
            #expect(failures.allSatisfy { $0 == .conflict("policy nightly was changed meanwhile; apply it again") }, "\(failures)")
            let versions = try await repository.policyVersions(name: "nightly").map(\.version)
            #expect(versions == Array(1...(outcomes.count - failures.count)))
        }
    }

    @Test("one batch delivered several times at once is applied once", arguments: TestDatabase.allCases)
    func batchRace(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let host = try await repository.enrollTestHost("web1")
            let batch = ReportBatch(reports: [
                AgentReport(createdAt: testNow, inventory: testInventory([testVM("a")])),
                AgentReport(createdAt: testNow, job: testJob("j1", vm: "a")),
                AgentReport(createdAt: testNow, storeUsage: StoreUsageReport(store: "/s", storedBytes: 1, logicalBytes: 1, points: 1)),
            ])
            let outcomes = await Self.race(5) { _ in try await repository.record(batch, hostID: host.hostID, now: testNow) }
            let receipts = try outcomes.map { try $0.get() }
            #expect(receipts.flatMap(\.accepted).sorted() == batch.reports.map(\.id).sorted())
            #expect(receipts.flatMap(\.duplicates).count == 4 * batch.reports.count)
            #expect(try await repository.jobs(JobFilter()).count == 1)
            #expect(try await repository.storeUsage(since: testNow).flatMap(\.samples).count == 1)
            #expect(try await repository.vms(hostID: nil, now: testNow).map(\.name) == ["a"])
        }
    }
}
