import FleetAPI
@testable import FleetDatabase
import Foundation
import Testing

@Suite("Repository: credentials, enrollment and sessions")
struct RepositoryCredentialTests {
    @Test("an admin credential authenticates as that admin; other kinds of token never do", arguments: TestDatabase.allCases)
    func adminCredential(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            #expect(try await repository.adminCredentialCount() == 0)
            let token = try await repository.createAdminCredential(name: "alice", now: testNow)
            #expect(token.hasPrefix("vba_") && token.count == 4 + 43)
            #expect(try await repository.adminCredentialCount() == 1)

            guard case .admin(let id, let name)? = try await repository.authenticate(token: token, now: testNow) else {
                Issue.record("an admin token did not authenticate as an admin")
                return
            }
            #expect(name == "alice" && !id.isEmpty)

            let enrollment = try await repository.createEnrollmentToken(EnrollmentTokenRequest(), now: testNow)
            let session = try await repository.createSession(adminID: id, expiresAt: testNow + 3_600, now: testNow)
            for notACredential in [enrollment.token, session, "vba_" + "A".repeating(43), "", "garbage", String(token.dropLast())] {
                #expect(try await repository.authenticate(token: notACredential, now: testNow) == nil, "\(notACredential)")
            }
        }
    }

    @Test("an enrollment token is traded once for a host credential that authenticates as the host",
          arguments: TestDatabase.allCases)
    func enrollOnce(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let created = try await repository.createEnrollmentToken(
                EnrollmentTokenRequest(groups: ["db", "eu"]), now: testNow)
            #expect(created.token.hasPrefix("vbe_"))
            #expect(created.expiresAt == testNow + 86_400)
            #expect(created.groups == ["db", "eu"])

            let enrolled = try await repository.enroll(
                EnrollRequest(token: created.token, hostName: "db1", agentVersion: "1.2.0"), now: testNow)
            #expect(enrolled.hostName == "db1" && enrolled.credential.hasPrefix("vbh_"))
            #expect(try await repository.authenticate(token: enrolled.credential, now: testNow)
                == .host(id: enrolled.hostID, name: "db1"))

            let again = await #expect(throws: FleetError.self) {
                try await repository.enroll(EnrollRequest(token: created.token, hostName: "db2", agentVersion: "1.2.0"), now: testNow)
            }
            #expect(again == .unauthenticated("enrollment token already used"))

            let host = try await repository.host(id: enrolled.hostID, now: testNow).host
            #expect(host.groups == ["db", "eu"] && host.agentVersion == "1.2.0" && host.enrolledAt == testNow)
            #expect(try await repository.hosts(now: testNow).map(\.name) == ["db1"])
        }
    }

    @Test("ten concurrent enrolls with one token: exactly one host is created", arguments: TestDatabase.allCases)
    func concurrentEnroll(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let token = try await repository.createEnrollmentToken(EnrollmentTokenRequest(), now: testNow).token
            let outcomes = await withTaskGroup(of: Result<EnrollResponse, FleetError>.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        do {
                            return .success(try await repository.enroll(
                                EnrollRequest(token: token, hostName: "host\(index)", agentVersion: "1"), now: testNow))
                        } catch {
                            return .failure(error as? FleetError ?? .database("\(error)"))
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            let failures = outcomes.compactMap { outcome -> FleetError? in
                if case .failure(let error) = outcome { return error } else { return nil }
            }
            #expect(outcomes.count - failures.count == 1)
            #expect(failures.allSatisfy { $0 == .unauthenticated("enrollment token already used") }, "\(failures)")
            #expect(try await repository.hosts(now: testNow).count == 1)
        }
    }

    @Test("an enrollment token expires, and its lifetime is one second to 30 days", arguments: TestDatabase.allCases)
    func enrollmentExpiry(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let token = try await repository.createEnrollmentToken(EnrollmentTokenRequest(expiresInSeconds: 60), now: testNow)
            #expect(token.expiresAt == testNow + 60)
            await #expect(throws: FleetError.unauthenticated("enrollment token expired")) {
                try await repository.enroll(EnrollRequest(token: token.token, hostName: "late", agentVersion: "1"),
                                            now: testNow + 60)
            }
            _ = try await repository.enroll(EnrollRequest(token: token.token, hostName: "on-time", agentVersion: "1"),
                                            now: testNow + 59)

            for lifetime in [0, -5, 30 * 86_400 + 1] {
                await #expect(throws: FleetError.self, "\(lifetime) s") {
                    try await repository.createEnrollmentToken(EnrollmentTokenRequest(expiresInSeconds: lifetime), now: testNow)
                }
            }
            let longest = try await repository.createEnrollmentToken(
                EnrollmentTokenRequest(expiresInSeconds: 30 * 86_400), now: testNow)
            #expect(longest.expiresAt == testNow + 30 * 86_400)
            await #expect(throws: FleetError.unauthenticated("unknown enrollment token")) {
                try await repository.enroll(EnrollRequest(token: "vbe_" + "x".repeating(43), hostName: "h", agentVersion: "1"),
                                            now: testNow)
            }
            await #expect(throws: FleetError.unauthenticated("not an enrollment token (vbe_…)")) {
                try await repository.enroll(EnrollRequest(token: "vbh_whatever", hostName: "h", agentVersion: "1"), now: testNow)
            }
        }
    }

    @Test("a token bound to a host name enrolls only that name, and a refused try does not use it up",
          arguments: TestDatabase.allCases)
    func hostNameBinding(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let token = try await repository.createEnrollmentToken(EnrollmentTokenRequest(hostName: "web1"), now: testNow)
            #expect(token.hostName == "web1")
            await #expect(throws: FleetError.unauthenticated("this enrollment token is for host web1, not web2")) {
                try await repository.enroll(EnrollRequest(token: token.token, hostName: "web2", agentVersion: "1"), now: testNow)
            }
            let enrolled = try await repository.enroll(EnrollRequest(token: token.token, hostName: "web1", agentVersion: "1"),
                                                       now: testNow)
            #expect(enrolled.hostName == "web1")
        }
    }

    @Test("revoking a host stops its credential at once; its name can then enroll as a new host",
          arguments: TestDatabase.allCases)
    func revocation(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let old = try await repository.enrollTestHost("web1")
            #expect(try await repository.authenticate(token: old.credential, now: testNow) != nil)
            await #expect(throws: FleetError.conflict("host web1 is already enrolled; revoke it first")) {
                try await repository.enrollTestHost("web1")
            }

            let revoked = try await repository.revokeHost(id: old.hostID, now: testNow + 10)
            #expect(revoked.revoked && revoked.health == .revoked)
            #expect(try await repository.authenticate(token: old.credential, now: testNow + 11) == nil)
            await #expect(throws: FleetError.notFound("no host with id nope")) {
                try await repository.revokeHost(id: "nope", now: testNow)
            }

            let new = try await repository.enrollTestHost("web1", now: testNow + 20)
            #expect(new.hostID != old.hostID)
            #expect(try await repository.authenticate(token: new.credential, now: testNow + 21) == .host(id: new.hostID, name: "web1"))
            let hosts = try await repository.hosts(now: testNow + 30)
            #expect(hosts.map(\.revoked).sorted { !$0 && $1 } == [false, true])
            #expect(Set(hosts.map(\.id)) == [old.hostID, new.hostID])
        }
    }

    @Test("a host's last contact is written at most every 30 seconds", arguments: TestDatabase.allCases)
    func lastContact(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let host = try await repository.enrollTestHost("web1")
            func lastContact() async throws -> Date? {
                try await repository.host(id: host.hostID, now: testNow).host.lastContact
            }
            #expect(try await lastContact() == testNow)
            _ = try await repository.authenticate(token: host.credential, now: testNow + 29)
            #expect(try await lastContact() == testNow)
            _ = try await repository.authenticate(token: host.credential, now: testNow + 30)
            #expect(try await lastContact() == testNow + 30)
            _ = try await repository.authenticate(token: host.credential, now: testNow + 95.5)
            #expect(try await lastContact() == testNow + 95.5)
        }
    }

    @Test("a session is an admin until it expires or is deleted", arguments: TestDatabase.allCases)
    func sessions(kind: TestDatabase) async throws {
        try await withRepository(kind) { repository in
            let admin = try await repository.createAdminCredential(name: "alice", now: testNow)
            guard case .admin(let adminID, _)? = try await repository.authenticate(token: admin, now: testNow) else {
                Issue.record("no admin")
                return
            }
            let session = try await repository.createSession(adminID: adminID, expiresAt: testNow + 600, now: testNow)
            #expect(session.hasPrefix("vbs_"))
            #expect(try await repository.session(token: session, now: testNow + 599) == .admin(id: adminID, name: "alice"))
            #expect(try await repository.session(token: session, now: testNow + 600) == nil)
            #expect(try await repository.session(token: admin, now: testNow) == nil)

            let second = try await repository.createSession(adminID: adminID, expiresAt: testNow + 600, now: testNow)
            try await repository.deleteSession(token: second)
            #expect(try await repository.session(token: second, now: testNow) == nil)
            try await repository.deleteSession(token: second)

            await #expect(throws: FleetError.notFound("no admin credential with id ghost")) {
                try await repository.createSession(adminID: "ghost", expiresAt: testNow + 600, now: testNow)
            }
            await #expect(throws: FleetError.self) {
                try await repository.createSession(adminID: adminID, expiresAt: testNow, now: testNow)
            }
        }
    }

    @Test("the database holds only the SHA-256 of each secret, never the secret", arguments: TestDatabase.allCases)
    func onlyDigestsStored(kind: TestDatabase) async throws {
        try await withRepositoryLocation(kind) { location in
            let repository = try await openFleetRepository(location, logger: testLogger)
            let admin = try await repository.createAdminCredential(name: "alice", now: testNow)
            guard case .admin(let adminID, _)? = try await repository.authenticate(token: admin, now: testNow) else { return }
            let session = try await repository.createSession(adminID: adminID, expiresAt: testNow + 60, now: testNow)
            let enrollment = try await repository.createEnrollmentToken(EnrollmentTokenRequest(), now: testNow)
            let host = try await repository.enroll(
                EnrollRequest(token: enrollment.token, hostName: "h", agentVersion: "1"), now: testNow)
            await repository.shutdown()

            let raw = try await openSQLDatabase(DatabaseLocation(location), logger: testLogger)
            var stored: [String] = []
            for table in ["admin_credentials", "sessions", "enrollment_tokens", "hosts"] {
                stored += try await raw.query("SELECT token_hash FROM \(table)").map { try $0.string("token_hash") }
            }
            await raw.close()
            let secrets = [admin, session, enrollment.token, host.credential]
            #expect(stored.sorted() == secrets.map(Secrets.digest).sorted())
            #expect(stored.allSatisfy { $0.count == 64 && $0.allSatisfy(\.isHexDigit) })
            if case .sqlite = kind, let path = location.split(separator: ":", maxSplits: 1).last {
                let bytes = ["", "-wal"].compactMap { try? Data(contentsOf: URL(fileURLWithPath: String(path) + $0)) }
                    .reduce(Data(), +)
                for secret in secrets { #expect(bytes.range(of: Data(secret.utf8)) == nil) }
            }
        }
    }
}

extension String {
    func repeating(_ count: Int) -> String {
        String(repeating: self, count: count)
    }
}
