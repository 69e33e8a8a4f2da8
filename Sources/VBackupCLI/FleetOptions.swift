import ArgumentParser
import FleetAPI
import FleetClient
import Foundation

/// How the admin commands reach the policy server: `--server` ($VBACKUP_SERVER), an admin token
/// from `--token-file` ($VBACKUP_SERVER_TOKEN_FILE) or $VBACKUP_SERVER_TOKEN, and `--ca-cert`
/// ($VBACKUP_SERVER_CA) to trust only the server's own certificate or CA.
struct FleetOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The policy server (default: $VBACKUP_SERVER).", valueName: "url"))
    var server: String?

    @Option(name: .long, help: ArgumentHelp(
        "File whose first line is an admin token, vba_… (default: $VBACKUP_SERVER_TOKEN_FILE, then $VBACKUP_SERVER_TOKEN).",
        valueName: "path"))
    var tokenFile: String?

    @Option(name: .long, help: ArgumentHelp(
        "PEM certificate of the server (or its CA) to trust instead of the system's roots (default: $VBACKUP_SERVER_CA).",
        valueName: "pem"))
    var caCert: String?

    private var environment: [String: String] { ProcessInfo.processInfo.environment }

    var serverURL: URL {
        get throws {
            guard let text = server ?? environment["VBACKUP_SERVER"], !text.isEmpty else {
                throw ValidationError("name the policy server with --server URL (or $VBACKUP_SERVER)")
            }
            return try ServerURL.parse(text)
        }
    }

    /// The admin token: refused here when it is a host or enrollment token, so it never leaves
    /// the machine for the wrong purpose.
    var token: String {
        get throws {
            let token: String
            if let path = tokenFile ?? environment["VBACKUP_SERVER_TOKEN_FILE"], !path.isEmpty {
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ValidationError("cannot read the token file \(path)")
                }
                token = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first
                    .map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            } else if let value = environment["VBACKUP_SERVER_TOKEN"], !value.isEmpty {
                token = value.trimmingCharacters(in: .whitespacesAndNewlines)
            } else {
                throw ValidationError("give an admin token with --token-file PATH (or $VBACKUP_SERVER_TOKEN_FILE, $VBACKUP_SERVER_TOKEN)")
            }
            switch TokenKind.of(token) {
            case .admin?, .session?:
                return token
            case let kind?:
                throw ValidationError("the token is a \(kind.rawValue)… token; these commands need an admin token (\(TokenKind.admin.rawValue)…)")
            case nil:
                throw ValidationError("the token is not a vbackup token (an admin token starts with \(TokenKind.admin.rawValue))")
            }
        }
    }

    var trust: FleetClient.Trust {
        guard let path = caCert ?? environment["VBACKUP_SERVER_CA"], !path.isEmpty else { return .system }
        return .pinned(certificatePEMPath: URL(fileURLWithPath: path).standardizedFileURL.path)
    }

    func client() throws -> FleetClient {
        try FleetClient(server: serverURL, credential: token, trust: trust)
    }

    /// Runs one call to the server from a synchronous command.
    func call<T: Sendable>(_ body: @escaping @Sendable (FleetClient) async throws -> T) throws -> T {
        let client = try client()
        return try FleetClient.blocking { try await body(client) }
    }
}

/// A name the server does not know, or knows twice: a failure (exit 1), not a usage error.
struct FleetLookupError: Error, CustomStringConvertible {
    var description: String
}

/// A policy server's address as people type it.
enum ServerURL {
    static func parse(_ text: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty else {
            throw ValidationError("'\(text)' is not a server URL (https://host:port)")
        }
        if scheme == "http" && !["localhost", "127.0.0.1", "::1"].contains(host) {
            FileHandle.standardError.write(Data("vbackup: warning: \(text) is plain HTTP: credentials cross the network unencrypted\n".utf8))
        }
        return url
    }
}

/// The API's own JSON (`APIJSON`: sorted keys, ISO 8601 dates with milliseconds), indented.
enum APIOutput {
    static func print<T: Encodable>(_ value: T) throws {
        let encoder = APIJSON.encoder()
        encoder.outputFormatting.formUnion([.prettyPrinted, .withoutEscapingSlashes])
        // print, not FileHandle.write: a reader that stops early (`| head`) must not crash us.
        Swift.print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// Small pieces of the fleet commands' tables.
enum FleetText {
    /// Comma-separated, or "-" for none.
    static func list(_ values: [String]) -> String {
        values.isEmpty ? "-" : values.joined(separator: ",")
    }

    static func date(_ date: Date?) -> String {
        date.map(Human.date) ?? "-"
    }

    /// "3m 12s", "2h 5m": how long ago or how long something took.
    static func duration(_ seconds: Double?) -> String {
        seconds.map { StatusText.duration($0) } ?? "-"
    }
}
