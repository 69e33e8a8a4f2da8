import FleetAPI
@testable import FleetDatabase
import Foundation
import Testing

@Suite("Repository: opening and migrating")
struct RepositoryMigrationTests {
    @Test("opening a database twice keeps its data and applies no migration again", arguments: TestDatabase.allCases)
    func reopen(kind: TestDatabase) async throws {
        try await withRepositoryLocation(kind) { location in
            let first = try await openFleetRepository(location, logger: testLogger)
            #expect(first.kind == kind.rawValue)
            let token = try await first.createAdminCredential(name: "alice", now: testNow)
            await first.shutdown()

            let second = try await openFleetRepository(location, logger: testLogger)
            #expect(try await second.adminCredentialCount() == 1)
            #expect(try await second.authenticate(token: token, now: testNow)?.name == "alice")
            await second.shutdown()

            let raw = try await openSQLDatabase(DatabaseLocation(location), logger: testLogger)
            let versions = try await raw.query("SELECT version FROM schema_version").map { try $0.int("version") }
            await raw.close()
            #expect(versions == [Schema.latestVersion])
        }
    }

    @Test("two servers opening a new database at once both get the migrated schema", arguments: TestDatabase.allCases)
    func concurrentOpen(kind: TestDatabase) async throws {
        try await withRepositoryLocation(kind) { location in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<2 {
                    group.addTask {
                        let repository = try await openFleetRepository(location, logger: testLogger)
                        _ = try await repository.createAdminCredential(name: "admin\(index)", now: testNow)
                        await repository.shutdown()
                    }
                }
                try await group.waitForAll()
            }
            let repository = try await openFleetRepository(location, logger: testLogger)
            #expect(try await repository.adminCredentialCount() == 2)
            await repository.shutdown()
        }
    }

    @Test("a database of a newer schema is refused, not written to", arguments: TestDatabase.allCases)
    func newerSchemaRefused(kind: TestDatabase) async throws {
        try await withRepositoryLocation(kind) { location in
            await (try await openFleetRepository(location, logger: testLogger)).shutdown()
            let raw = try await openSQLDatabase(DatabaseLocation(location), logger: testLogger)
            try await raw.execute("UPDATE schema_version SET version = ?", Schema.latestVersion + 1)
            await raw.close()

            let error = await #expect(throws: FleetError.self) {
                try await openFleetRepository(location, logger: testLogger)
            }
            guard case .database(let message)? = error else {
                Issue.record("expected FleetError.database, got \(String(describing: error))")
                return
            }
            #expect(message.contains("schema version \(Schema.latestVersion + 1)"))
            #expect(message.contains("upgrade vbackup"))
        }
    }

    @Test("a malformed location is invalid, with the location named and no password shown",
          arguments: ["", "mysql://u:secret@h/db", "postgres://h/db", "postgres://u:secret@h", "postgres://u@h/db?sslmode=maybe",
                      "postgres://u@h/db?timeout=3", "sqlite:"])
    func malformedLocation(location: String) async throws {
        let error = await #expect(throws: FleetError.self) {
            try await openFleetRepository(location, logger: testLogger)
        }
        guard case .invalid(let message)? = error else {
            Issue.record("expected FleetError.invalid, got \(String(describing: error))")
            return
        }
        #expect(!message.contains("secret"))
        #expect(!message.contains("\n"))
    }

    @Test("a location that parses but cannot be opened is a database error with the cause")
    func unreachable() async throws {
        for (location, cause) in [
            ("postgres://vbackup:vbackup@127.0.0.1:1/vbackup", "cannot connect to postgres://vbackup@127.0.0.1:1/vbackup"),
            ("sqlite:/nonexistent-directory/fleet.sqlite", "cannot open /nonexistent-directory/fleet.sqlite"),
        ] {
            let error = await #expect(throws: FleetError.self) {
                try await openFleetRepository(location, logger: testLogger)
            }
            guard case .database(let message)? = error else {
                Issue.record("\(location): expected FleetError.database, got \(String(describing: error))")
                continue
            }
            #expect(message.contains(cause), "\(message)")
        }
    }

    @Test("a wrong PostgreSQL password is refused with the server's reason")
    func wrongPassword() async throws {
        var server = try PostgresLocation(url: TestDatabase.postgresServer)
        server.password = "not-the-password"
        let error = await #expect(throws: FleetError.self) {
            try await openFleetRepository(server.url, logger: testLogger)
        }
        #expect(error?.description.contains("password authentication failed") == true, "\(String(describing: error))")
        #expect(error?.description.contains("not-the-password") == false)
    }

    @Test("locations: sqlite: prefix, plain paths and both PostgreSQL schemes")
    func locations() throws {
        #expect(try DatabaseLocation("sqlite:/var/lib/vbackup/fleet.db") == .sqlite(path: "/var/lib/vbackup/fleet.db"))
        #expect(try DatabaseLocation("sqlite:///var/lib/fleet.db") == .sqlite(path: "/var/lib/fleet.db"))
        #expect(try DatabaseLocation("fleet.db") == .sqlite(path: "fleet.db"))
        let postgres = PostgresLocation(host: "db.example", port: 5433, user: "fleet", password: "p@ss/word",
                                        database: "vbackup", tls: .require)
        #expect(try DatabaseLocation("postgresql://fleet:p%40ss%2Fword@db.example:5433/vbackup?sslmode=require")
            == .postgresql(postgres))
        #expect(try DatabaseLocation(postgres.url) == .postgresql(postgres))
        guard case .postgresql(let plain) = try DatabaseLocation("postgres://u:p@h/db") else {
            Issue.record("not PostgreSQL")
            return
        }
        #expect(plain.port == 5432 && plain.tls == .disable && plain.redacted == "postgres://u@h:5432/db")
    }
}
