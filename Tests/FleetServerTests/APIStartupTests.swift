import AsyncHTTPClient
import FleetAPI
import FleetDatabase
import Foundation
import Logging
import NIOSSL
import Synchronization
import Testing
@testable import VBackupServer

/// What `vbackup server` does before and while it serves: the first admin token, where it goes,
/// and HTTPS with the operator's certificate.
@Suite struct APIStartupTests {
    @Test(arguments: TestDatabase.allCases)
    func theFirstStartWritesAnAdminTokenOnlyItsOwnerCanRead(_ kind: TestDatabase) async throws {
        let folder = try TemporaryFolder()
        let file = folder.path + "/state/server/admin.token"
        let log = LogCapture()
        try await withRepository(kind) { repository in
            let written = try await AdminBootstrap.ensureAdminCredential(repository, tokenFile: file, logger: log.logger)
            #expect(written == file)
            let token = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .newlines)
            #expect(token.hasPrefix("vba_"))
            guard case .admin(_, let name)? = try await repository.authenticate(token: token, now: Date()) else {
                Issue.record("the written token is not an admin credential")
                return
            }
            #expect(name == "admin")
            #expect(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int == 0o600)
            #expect(try FileManager.default.attributesOfItem(atPath: folder.path + "/state/server")[.posixPermissions] as? Int == 0o700)
            #expect(log.text.contains(file), "the log says where the token is")
            #expect(!log.text.contains(token), "the log never holds the token")

            // A restart finds an admin credential and leaves the file alone.
            #expect(try await AdminBootstrap.ensureAdminCredential(repository, tokenFile: file, logger: log.logger) == nil)
            #expect(try String(contentsOfFile: file, encoding: .utf8) == token + "\n")
            #expect(try await repository.adminCredentialCount() == 1)
        }
    }

    @Test func theAdminTokenGoesNextToASQLiteDatabaseElseToTheStateFolder() {
        #expect(ServerConfiguration(database: "sqlite:/srv/fleet/server.db").adminTokenPath == "/srv/fleet/admin.token")
        #expect(ServerConfiguration(database: "sqlite:///srv/fleet/server.db").adminTokenPath == "/srv/fleet/admin.token")
        #expect(ServerConfiguration(database: "/srv/fleet/server.db").adminTokenPath == "/srv/fleet/admin.token")
        #expect(ServerConfiguration().adminTokenPath == "/var/lib/vbackup/server/admin.token")
        #expect(ServerConfiguration(database: "postgres://u:p@db:5432/fleet").adminTokenPath == ServerConfiguration.defaultAdminTokenFile)
        #expect(ServerConfiguration(database: "postgres://u:p@db/fleet", adminTokenFile: "/etc/x/t").adminTokenPath == "/etc/x/t")
        #expect(ServerConfiguration().host == "127.0.0.1")
        #expect(ServerConfiguration().port == 8443)
    }

    /// The default database lives in a folder a fresh host does not have yet.
    @Test func aSQLiteDatabaseGetsItsFolderOnlyItsOwnerCanEnter() async throws {
        let folder = try TemporaryFolder()
        let database = "sqlite:\(folder.path)/var/server/server.db"
        let token = try await PolicyServer.createAdminToken(database: database, name: "ops", logger: TestServer.quietLogger)
        #expect(token.hasPrefix("vba_"))
        #expect(try FileManager.default.attributesOfItem(atPath: folder.path + "/var/server")[.posixPermissions] as? Int == 0o700)
        let repository = try await openFleetRepository(database, logger: TestServer.quietLogger)
        let principal = try await repository.authenticate(token: token, now: Date())
        await repository.shutdown()
        guard case .admin(_, let name)? = principal else {
            Issue.record("the printed token is not an admin credential")
            return
        }
        #expect(name == "ops")
    }

    @Test func unreadableTLSFilesAreAStartupErrorNamingTheFile() async throws {
        var configuration = ServerConfiguration(port: 0)
        configuration.tls = .init(certificate: "/nonexistent/cert.pem", key: "/nonexistent/key.pem")
        try await withRepository(.sqlite) { repository in
            #expect { _ = try PolicyServer.application(repository: repository, configuration: configuration) } throws: { error in
                "\(error)".contains("/nonexistent/cert.pem")
            }
        }
    }

    /// A database that fails answers 503 (health too), with a line that names no SQL, table or
    /// address.
    @Test(arguments: TestDatabase.allCases)
    func aFailingDatabaseIs503WithoutItsDetails(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            try await server.apply("nightly")
            await server.repository.shutdown()
            for (path, token) in [(APIPath.policies, server.admin), (APIPath.health, nil)] {
                let response = try await server.send(.get, path, token: token)
                let message = try server.refusal(.serviceUnavailable, response)
                for secret in ["select", "from ", "sqlite", "postgres", "127.0.0.1", "vbackup:", "table"] {
                    #expect(!message.lowercased().contains(secret), "\(path): \(message)")
                }
            }
        }
    }

    /// The whole start: `PolicyServer.run` opens the database, writes the admin token and serves
    /// HTTPS that a client trusting only this certificate accepts.
    @Test(arguments: TestDatabase.allCases)
    func runServesHTTPSWithTheOperatorsCertificate(_ kind: TestDatabase) async throws {
        let folder = try TemporaryFolder()
        let (certificate, key) = try SelfSigned.make(in: folder.path)
        try await withRepositoryLocation(kind) { location in
            let (ports, listening) = AsyncStream.makeStream(of: Int.self)
            let configuration = ServerConfiguration(
                database: location, port: 0, tls: .init(certificate: certificate, key: key),
                adminTokenFile: folder.path + "/admin.token", logger: TestServer.quietLogger,
                onListening: { port in listening.yield(port) })
            let server = Task { try await PolicyServer.run(configuration) }
            defer { server.cancel() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())

            var trusting = TLSConfiguration.makeClientConfiguration()
            trusting.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate))
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: trusting))
            let untrusting = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                let health = try await client.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)\(APIPath.health)"), timeout: .seconds(10))
                #expect(health.status == .ok)
                let status = try APIJSON.decoder().decode(HealthStatus.self, from: Data(try await health.body.collect(upTo: 1 << 16).readableBytesView))
                #expect(status.database == kind.rawValue)

                let token = try String(contentsOfFile: folder.path + "/admin.token", encoding: .utf8).trimmingCharacters(in: .newlines)
                var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)\(APIPath.policies)")
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                #expect(try await client.execute(request, timeout: .seconds(10)).status == .ok, "the written admin token works")

                // AsyncHTTPClient retries a failed handshake until the deadline, hence a short one.
                await #expect(throws: (any Error).self, "a client that does not trust the certificate is refused") {
                    _ = try await untrusting.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)\(APIPath.health)"), timeout: .seconds(1))
                }
            } catch {
                try await client.shutdown()
                try await untrusting.shutdown()
                throw error
            }
            try await client.shutdown()
            try await untrusting.shutdown()
            server.cancel()
            _ = await server.result
        }
    }
}

/// A certificate for 127.0.0.1 made with openssl, as an operator would for a test install.
enum SelfSigned {
    static func make(in folder: String) throws -> (certificate: String, key: String) {
        let certificate = folder + "/cert.pem", key = folder + "/key.pem"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=127.0.0.1",
                             "-addext", "subjectAltName=IP:127.0.0.1", "-days", "2", "-keyout", key, "-out", certificate]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestServerError.noResult }
        return (certificate, key)
    }
}

/// A folder removed when the value goes away.
final class TemporaryFolder: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("vbackup-server-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Every log line a logger writes, for tests that check what is (not) logged.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "capture") { _ in Handler(capture: self) }
    }

    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.lines.withLock { $0.append("\(event.level) \(event.message) \(event.metadata ?? [:])") }
        }
    }
}
