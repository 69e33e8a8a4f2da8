import FleetAPI
@testable import FleetDatabase
import Foundation
import Logging
import Testing

/// The engines every repository test runs on. Both always run: PostgreSQL is not optional,
/// and an unreachable server fails the test with how to start it (CI starts it).
enum TestDatabase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgresql

    var testDescription: String { rawValue }

    /// The PostgreSQL server the tests create their databases on (a role with CREATEDB).
    static var postgresServer: String {
        ProcessInfo.processInfo.environment["VBACKUP_TEST_POSTGRES"] ?? "postgres://vbackup:vbackup@127.0.0.1:5432/vbackup"
    }
}

/// A repository on a fresh, empty database of `kind`, removed afterwards (also when `body` throws).
func withRepository(_ kind: TestDatabase, _ body: (any FleetRepository) async throws -> Void) async throws {
    try await withRepositoryLocation(kind) { location in
        let repository = try await openFleetRepository(location, logger: testLogger)
        do {
            try await body(repository)
        } catch {
            await repository.shutdown()
            throw error
        }
        await repository.shutdown()
    }
}

/// The location (for `openFleetRepository`, or a server process's `--database`) of a fresh,
/// empty database of `kind`: a temporary SQLite file, or a new PostgreSQL database
/// `vbt_<random>` on `TestDatabase.postgresServer`. Dropped or deleted afterwards.
func withRepositoryLocation(_ kind: TestDatabase, _ body: (String) async throws -> Void) async throws {
    switch kind {
    case .sqlite:
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vbt-\(UUID().uuidString).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        try await body("sqlite:" + path)
    case .postgresql:
        let server = try postgresServer()
        let name = "vbt_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try await runOnPostgresServer(server, "CREATE DATABASE \(name)")
        var database = server
        database.database = name
        do {
            try await body(database.url)
        } catch {
            try? await runOnPostgresServer(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
            throw error
        }
        try await runOnPostgresServer(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}

/// Quiet unless a test fails in a way worth reading the log for.
let testLogger: Logger = {
    var logger = Logger(label: "vbackup.fleet-tests")
    logger.logLevel = .warning
    return logger
}()

private func postgresServer() throws -> PostgresLocation {
    do {
        return try PostgresLocation(url: TestDatabase.postgresServer)
    } catch {
        throw TestDatabaseUnavailable("VBACKUP_TEST_POSTGRES is not a postgres:// address: \(error)")
    }
}

/// One statement (CREATE/DROP DATABASE cannot run in a transaction) on the server's own database.
private func runOnPostgresServer(_ server: PostgresLocation, _ sql: String) async throws {
    do {
        try await server.withConnection(logger: testLogger) { try await $0.execute(sql, []) }
    } catch {
        throw TestDatabaseUnavailable(
            "PostgreSQL for the tests at \(server.redacted) (VBACKUP_TEST_POSTGRES) failed: \(error). "
                + "Start it (pg_ctlcluster 15 main start) with a role vbackup/vbackup that has CREATEDB.")
    }
}

struct TestDatabaseUnavailable: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

// MARK: Fixtures the repository tests share

/// A fixed "now" (2025-06-15 12:00:00 UTC), whole seconds so that times survive the
/// database's milliseconds exactly.
let testNow = Date(timeIntervalSince1970: 1_749_988_800)

extension FleetRepository {
    /// Enrolls a host the way an agent does: an admin makes a token, the agent trades it.
    func enrollTestHost(_ name: String, groups: [String] = [], now: Date = testNow) async throws -> EnrollResponse {
        let token = try await createEnrollmentToken(EnrollmentTokenRequest(groups: groups), now: now)
        return try await enroll(EnrollRequest(token: token.token, hostName: name, agentVersion: "1.0.0"), now: now)
    }
}

func testJob(_ id: String = UUID().uuidString.lowercased(), vm: String = "web", vmUUID: String? = nil,
             state: String = "succeeded", queuedAt: Date = testNow, startedAt: Date? = nil, finishedAt: Date? = nil,
             bytesRead: Int64 = 0, bytesStored: Int64 = 0, point: PointReport? = nil, error: String? = nil) -> JobReport {
    JobReport(jobID: id, vmUUID: vmUUID ?? "uuid-\(vm)", vmName: vm, policy: "nightly", trigger: "schedule", state: state,
              fullBackup: false, queuedAt: queuedAt, startedAt: startedAt, finishedAt: finishedAt, bytesRead: bytesRead,
              bytesStored: bytesStored, throttledSeconds: 0, overran: false, error: error, point: point)
}

func testVM(_ name: String, policy: String? = "nightly", maximumPointAgeSeconds: Double? = 86_400,
            tags: [String] = []) -> VMReport {
    VMReport(uuid: "uuid-\(name)", name: name, state: "running", tags: tags,
             disks: [DiskReport(target: "vda", source: "/var/lib/libvirt/images/\(name).qcow2", capacityBytes: 1 << 30)],
             policy: policy, maximumPointAgeSeconds: maximumPointAgeSeconds)
}

func testInventory(_ vms: [VMReport], policyErrors: [String] = [], agentVersion: String = "1.0.0") -> InventoryReport {
    InventoryReport(agentVersion: agentVersion, libvirtVersion: "9.0.0", vms: vms, policyErrors: policyErrors,
                    policyVersions: ["nightly": 1])
}
