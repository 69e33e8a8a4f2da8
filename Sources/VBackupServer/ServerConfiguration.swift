import Foundation
import Logging

/// How `vbackup server` runs. Everything has a default but the database, so a test builds one
/// in a line and the CLI maps its options onto it one to one.
public struct ServerConfiguration: Sendable {
    public static let defaultDatabase = "sqlite:/var/lib/vbackup/server/server.db"
    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 8443
    /// Where the first admin token goes when the database is not a SQLite file.
    public static let defaultAdminTokenFile = "/var/lib/vbackup/server/admin.token"

    /// A certificate chain and its private key, both PEM files.
    public struct TLSFiles: Sendable, Equatable {
        public var certificate: String
        public var key: String

        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// `sqlite:PATH` or a `postgresql://` URL, as the FleetDatabase module reads it.
    public var database: String
    public var host: String
    /// 0 picks a free port (tests); `onListening` tells which.
    public var port: Int
    /// nil serves plain HTTP (behind a TLS-terminating proxy, or on loopback).
    public var tls: TLSFiles?
    /// Where the first admin token is written; nil means `admin.token` next to a SQLite
    /// database, else `defaultAdminTokenFile`.
    public var adminTokenFile: String?
    public var logger: Logger
    /// Called once the server listens, with the port it bound.
    public var onListening: (@Sendable (Int) async -> Void)?

    public init(database: String = ServerConfiguration.defaultDatabase, host: String = ServerConfiguration.defaultHost,
                port: Int = ServerConfiguration.defaultPort, tls: TLSFiles? = nil, adminTokenFile: String? = nil,
                logger: Logger = Logger(label: "vbackup.server"), onListening: (@Sendable (Int) async -> Void)? = nil) {
        self.database = database
        self.host = host
        self.port = port
        self.tls = tls
        self.adminTokenFile = adminTokenFile
        self.logger = logger
        self.onListening = onListening
    }

    /// The admin-token file this configuration writes to.
    public var adminTokenPath: String {
        if let adminTokenFile { return adminTokenFile }
        if let sqlite = Self.sqlitePath(database) {
            return URL(fileURLWithPath: sqlite).deletingLastPathComponent().appendingPathComponent("admin.token").path
        }
        return Self.defaultAdminTokenFile
    }

    /// The file of a SQLite location (`sqlite:PATH`, `sqlite://PATH` or a plain path, as
    /// `openFleetRepository` reads them), or nil for another database.
    static func sqlitePath(_ location: String) -> String? {
        let text = location.trimmingCharacters(in: .whitespaces)
        guard text.hasPrefix("sqlite:") else { return text.isEmpty || text.contains("://") ? nil : text }
        var path = text.dropFirst("sqlite:".count)
        if path.hasPrefix("//") { path = path.dropFirst(2) }
        return path.isEmpty ? nil : String(path)
    }
}
