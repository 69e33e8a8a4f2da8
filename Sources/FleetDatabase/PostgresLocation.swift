import FleetAPI
import Foundation
import PostgresNIO

/// A `postgres://USER:PASS@HOST:PORT/DB[?sslmode=…]` location. Plain TCP unless `sslmode`
/// asks for TLS: `require` encrypts without checking the certificate (as libpq does),
/// `verify-full` (or `verify-ca`) also checks it against the system's roots and the host name.
struct PostgresLocation: Sendable, Equatable {
    enum TLSMode: Sendable, Equatable {
        case disable
        case require
        case verify
    }

    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var tls: TLSMode

    static let schemes = ["postgres", "postgresql"]

    init(host: String, port: Int, user: String, password: String?, database: String, tls: TLSMode) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
    }

    init(url text: String) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme, Self.schemes.contains(scheme) else {
            throw FleetError.invalid("database location \(Self.redacting(text)) is not a postgres://USER:PASS@HOST:PORT/DB address")
        }
        guard let host = url.host, !host.isEmpty else {
            throw FleetError.invalid("database location \(Self.redacting(text)) names no host")
        }
        guard let user = url.user, !user.isEmpty else {
            throw FleetError.invalid("database location \(Self.redacting(text)) names no user (postgres://USER:PASS@HOST/DB)")
        }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw FleetError.invalid("database location \(Self.redacting(text)) names no database (postgres://USER:PASS@HOST/DB)")
        }
        self.host = host
        port = url.port ?? 5432
        self.user = url.user?.removingPercentEncoding ?? user
        password = url.password?.removingPercentEncoding
        self.database = database.removingPercentEncoding ?? database
        tls = try Self.tlsMode(url.queryItems ?? [], location: text)
    }

    private static func tlsMode(_ items: [URLQueryItem], location: String) throws -> TLSMode {
        for item in items {
            guard item.name == "sslmode" else {
                throw FleetError.invalid("database location \(redacting(location)): unknown parameter \(item.name) (only sslmode)")
            }
            switch item.value ?? "" {
            case "disable", "allow", "prefer": return .disable
            case "require": return .require
            case "verify-ca", "verify-full": return .verify
            case let other:
                throw FleetError.invalid("database location \(redacting(location)): sslmode \(other) is not disable, require or verify-full")
            }
        }
        return .disable
    }

    /// The address without its password, for messages and logs.
    var redacted: String {
        "postgres://\(user)@\(host):\(port)/\(database)"
    }

    /// The address, password included (for handing a test database to a server process).
    var url: String {
        var components = URLComponents()
        components.scheme = "postgres"
        components.user = user
        components.password = password
        components.host = host
        components.port = port
        components.path = "/" + database
        if tls != .disable {
            components.queryItems = [URLQueryItem(name: "sslmode", value: tls == .require ? "require" : "verify-full")]
        }
        return components.string ?? redacted
    }

    private static func redacting(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "…"
        return url.string ?? "(unreadable)"
    }

    private var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if tls == .require { configuration.certificateVerification = .none }
        return configuration
    }

    func clientConfiguration() -> PostgresClient.Configuration {
        PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database,
                                     tls: tls == .disable ? .disable : .require(tlsConfiguration))
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tlsSetting: PostgresConnection.Configuration.TLS
        if tls == .disable {
            tlsSetting = .disable
        } else {
            do {
                tlsSetting = .require(try NIOSSLContext(configuration: tlsConfiguration))
            } catch {
                throw FleetError.database("PostgreSQL: cannot set up TLS: \(error)")
            }
        }
        return PostgresConnection.Configuration(host: host, port: port, username: user, password: password,
                                                database: database, tls: tlsSetting)
    }

    /// One connection outside any pool, for what must run before the pool starts or on
    /// another database than the pool's: a first contact that fails fast with a clear reason
    /// (the pool would retry), and (in tests) CREATE/DROP DATABASE.
    func withConnection<T>(logger: Logger, _ body: (PostgresDatabase.Statement) async throws -> T) async throws -> T {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: connectionConfiguration(), id: 0, logger: logger)
        } catch let error as PSQLError {
            throw FleetError.database("cannot connect to \(redacted): \(PostgresDatabase.fleetError(error))")
        } catch {
            throw FleetError.database("cannot connect to \(redacted): \(error)")
        }
        do {
            let value = try await PostgresDatabase.mappingErrors {
                try await body(PostgresDatabase.Statement(connection: connection, logger: logger))
            }
            try? await connection.close()
            return value
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
