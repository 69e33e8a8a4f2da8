import ArgumentParser
import FleetClient
import Foundation
import Logging
import VBackupServer

/// `vbackup server`: the central policy server (`start`, the default) and the admin tokens
/// that unlock its API and dashboard.
struct ServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run the central policy server, or make admin tokens for it.",
        subcommands: [ServerStartCommand.self, ServerAdminTokenCommand.self],
        defaultSubcommand: ServerStartCommand.self)
}

/// The database every server subcommand opens.
struct ServerDatabaseOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: ArgumentHelp(
        "sqlite:PATH or postgres://USER:PASS@HOST:PORT/DB (default: \(ServerConfiguration.defaultDatabase)).", valueName: "location"))
    var database = ServerConfiguration.defaultDatabase
}

struct ServerStartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Serve the API and dashboard in the foreground (SIGTERM or SIGINT stops it gracefully).",
        discussion: """
            On the first start, with no admin credential in the database, one named "admin" is made and its token \
            written to --admin-token-file (mode 0600); the log names the file, never the token.
            """)

    @OptionGroup var database: ServerDatabaseOptions
    @Option(help: ArgumentHelp("Address to listen on.", valueName: "host:port"))
    var listen = "\(ServerConfiguration.defaultHost):\(ServerConfiguration.defaultPort)"
    @Option(help: ArgumentHelp("TLS certificate chain (PEM); with --tls-key, the server speaks HTTPS only.", valueName: "path"))
    var tlsCert: String?
    @Option(help: ArgumentHelp("TLS private key (PEM).", valueName: "path"))
    var tlsKey: String?
    @Option(help: ArgumentHelp(
        "Where the first admin token is written (default: admin.token next to a SQLite database, else "
            + "\(ServerConfiguration.defaultAdminTokenFile)).", valueName: "path"))
    var adminTokenFile: String?
    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error.", valueName: "level"))
    var logLevel = "info"

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        _ = try ServerAddress.parse(listen)
        _ = try ServerLogging.logger(level: logLevel)
    }

    func run() throws {
        let (host, port) = try ServerAddress.parse(listen)
        let configuration = ServerConfiguration(
            database: database.database, host: host, port: port,
            tls: tlsCert.flatMap { cert in tlsKey.map { ServerConfiguration.TLSFiles(certificate: cert, key: $0) } },
            adminTokenFile: adminTokenFile, logger: try ServerLogging.logger(level: logLevel))
        try FleetClient.blocking { try await PolicyServer.run(configuration) }
    }
}

struct ServerAdminTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin-token", abstract: "Admin credentials for the server's API and dashboard.",
        subcommands: [ServerAdminTokenCreateCommand.self])
}

struct ServerAdminTokenCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "Make an admin credential and print its token (shown this once; the server keeps a hash).")

    @OptionGroup var database: ServerDatabaseOptions
    @Option(help: ArgumentHelp("Who holds it; policy versions name it as their author.", valueName: "name"))
    var name: String

    func validate() throws {
        guard (1...64).contains(name.count), !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ValidationError("--name wants 1-64 printable characters")
        }
    }

    func run() throws {
        let location = database.database
        let name = name
        let token = try FleetClient.blocking {
            try await PolicyServer.createAdminToken(database: location, name: name, logger: try ServerLogging.logger(level: "warning"))
        }
        print(token)
    }
}

/// `host:port` or `[ipv6]:port`.
private enum ServerAddress {
    static func parse(_ text: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw ValidationError("--listen wants host:port (e.g. 0.0.0.0:8443), not '\(text)'")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--listen wants host:port (e.g. 0.0.0.0:8443), not '\(text)'") }
        return (host, port)
    }
}

/// swift-log to stderr, as the agent logs (`AgentLogging`, whose label is the agent's).
private enum ServerLogging {
    static func logger(level: String) throws -> Logger {
        guard let parsed = Logger.Level(rawValue: level) else {
            throw ValidationError("unknown log level '\(level)' (trace, debug, info, notice, warning, error, critical)")
        }
        var logger = Logger(label: "vbackup.server") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = parsed
        return logger
    }
}
