import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird
import HummingbirdCore  // HTTPServerBuilder, which Hummingbird does not re-export
import HummingbirdTLS
import Logging

/// The central policy server: the JSON API agents and admins call (`APIPath`), the
/// dashboard, and the OpenAPI document that describes both. `run` is what `vbackup server`
/// calls; tests call `application` with a repository of their own and drive it in process.
public enum PolicyServer {
    /// Reported by `GET /api/v1/health`.
    public static let version = "0.1.0"

    /// Opens the database, makes the first admin credential if there is none, and serves until
    /// SIGTERM or SIGINT.
    public static func run(_ configuration: ServerConfiguration) async throws {
        let repository = try await openRepository(configuration.database, logger: configuration.logger)
        do {
            try await AdminBootstrap.ensureAdminCredential(repository, tokenFile: configuration.adminTokenPath,
                                                           logger: configuration.logger)
            try await application(repository: repository, configuration: configuration).runService()
        } catch {
            await repository.shutdown()
            throw error
        }
        await repository.shutdown()
    }

    /// A new admin credential in the database at `location` (`vbackup server admin-token
    /// create`); the token is returned once, the database keeps its hash.
    public static func createAdminToken(database location: String, name: String, logger: Logger) async throws -> String {
        let repository = try await openRepository(location, logger: logger)
        do {
            let token = try await repository.createAdminCredential(name: name, now: Date())
            await repository.shutdown()
            return token
        } catch {
            await repository.shutdown()
            throw error
        }
    }

    /// `openFleetRepository`, after making the folder of a SQLite file (mode 0700: it holds the
    /// credential hashes), so the default `/var/lib/vbackup/server/server.db` works on a fresh host.
    static func openRepository(_ location: String, logger: Logger) async throws -> any FleetRepository {
        if let path = ServerConfiguration.sqlitePath(location) {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw ServerError.startup("cannot create the database folder \(folder.path): \(error.localizedDescription)")
            }
        }
        return try await openFleetRepository(location, logger: logger)
    }

    /// The server over `repository`, not yet running. Throws when the TLS files cannot be read.
    public static func application(repository: any FleetRepository, configuration: ServerConfiguration) throws
        -> some ApplicationProtocol {
        let state = ServerState(repository: repository, secureCookies: configuration.tls != nil)
        let server: HTTPServerBuilder = try configuration.tls.map { try .tls(.http1(), tlsConfiguration: $0.serverConfiguration()) }
            ?? .http1()
        let logger = configuration.logger
        let scheme = configuration.tls == nil ? "http" : "https"
        let onListening = configuration.onListening
        return Application(
            router: router(state),
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "vbackup"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.notice("serving \(scheme)://\(configuration.host):\(port) (\(repository.kind) database)")
                await onListening?(port)
            },
            logger: logger)
    }

    /// Every route of `RouteTable`, behind the error middleware (added first: Hummingbird wraps
    /// each route in the middleware present when it is registered).
    static func router(_ state: ServerState) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ErrorMiddleware())
        for route in RouteTable.routes {
            router.on(RouterPath(route.path), method: route.method, use: route.responder(state))
        }
        return router
    }
}
