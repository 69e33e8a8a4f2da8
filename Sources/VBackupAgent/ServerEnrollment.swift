import FleetAPI
import FleetClient
import Foundation

/// This host's membership of a policy server: `<state dir>/server.json`, written by
/// `vbackup agent enroll`, removed by `vbackup agent leave`. While it exists the agent takes its
/// policies from the server and reports to it. It holds the host's credential, so it is written
/// atomically with mode 0600 and its description leaves the credential out.
public struct ServerEnrollment: Codable, Sendable, Equatable, CustomStringConvertible {
    public static let fileName = "server.json"

    /// The server's base URL (`https://backup.example:8443`).
    public var server: String
    public var hostID: String
    public var hostName: String
    /// The host's bearer token (`vbh_…`).
    public var credential: String
    /// The PEM file of the server's certificate (or its CA) to trust instead of the system roots.
    public var caCertificate: String?
    public var enrolledAt: Date

    public init(server: String, hostID: String, hostName: String, credential: String, caCertificate: String?, enrolledAt: Date) {
        self.server = server
        self.hostID = hostID
        self.hostName = hostName
        self.credential = credential
        self.caCertificate = caCertificate
        self.enrolledAt = enrolledAt
    }

    public var description: String {
        "host \(hostName) (\(hostID)) enrolled with \(server)\(caCertificate.map { ", trusting \($0)" } ?? "")"
    }

    static func file(in stateDirectory: URL) -> URL { stateDirectory.appendingPathComponent(fileName) }

    /// The enrollment of the agent with this state folder; nil when the host is not enrolled.
    public static func read(from stateDirectory: URL) throws -> ServerEnrollment? {
        let url = file(in: stateDirectory)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            if FileManager.default.fileExists(atPath: url.path) {
                throw AgentError.invalidArgument("\(url.path) cannot be read (the agent runs as root; so must `vbackup agent` commands)")
            }
            return nil
        }
        do {
            return try APIJSON.decoder().decode(ServerEnrollment.self, from: data)
        } catch {
            throw AgentError.invalidArgument("\(url.path) is not an enrollment (\(error)); enroll again or remove it with `vbackup agent leave`")
        }
    }

    public func write(to stateDirectory: URL) throws {
        try FileManager.default.createDirectory(at: stateDirectory, withIntermediateDirectories: true)
        let encoder = APIJSON.encoder()
        encoder.outputFormatting.formUnion([.prettyPrinted, .withoutEscapingSlashes])
        try AtomicFile.write(try encoder.encode(self), to: Self.file(in: stateDirectory), mode: 0o600)
    }

    /// Removes the enrollment; returns whether there was one.
    @discardableResult
    public static func remove(from stateDirectory: URL) throws -> Bool {
        let url = file(in: stateDirectory)
        guard FileManager.default.fileExists(atPath: url.path) else { return false }
        try FileManager.default.removeItem(at: url)
        return true
    }

    /// A client that speaks to the server as this host.
    public func client(timeout: Duration = .seconds(20)) throws -> FleetClient {
        guard let url = URL(string: server) else { throw AgentError.invalidArgument("server.json names no usable URL: \(server)") }
        return try FleetClient(server: url, credential: credential, trust: caCertificate.map { .pinned(certificatePEMPath: $0) } ?? .system,
                               timeout: timeout)
    }

    /// Trades an enrollment token for a host credential and writes `server.json`.
    ///
    /// - Throws: `AgentError.invalidArgument` for a token that is not an enrollment token (a
    ///   `vba_`/`vbh_` pasted by mistake is refused before it leaves the host), `FleetClientError`
    ///   when the server cannot be reached or refuses the token.
    public static func enroll(server: URL, token: String, hostName: String, caCertificate: String?,
                              stateDirectory: URL, now: Date = Date()) throws -> ServerEnrollment {
        guard TokenKind.of(token) == .enrollment else {
            let kind = TokenKind.of(token).map { "a \($0.rawValue)… token" } ?? "not a vbackup token"
            throw AgentError.invalidArgument("--token wants an enrollment token (\(TokenKind.enrollment.rawValue)…); this is \(kind)")
        }
        let client = try FleetClient(server: server, credential: nil,
                                     trust: caCertificate.map { .pinned(certificatePEMPath: $0) } ?? .system)
        let request = EnrollRequest(token: token, hostName: hostName, agentVersion: AgentVersion.current)
        let answer = try FleetClient.blocking { try await client.enroll(request) }
        guard TokenKind.of(answer.credential) == .host else {
            throw FleetClientError.badResponse("the enrollment answer holds no host credential")
        }
        let enrollment = ServerEnrollment(server: server.absoluteString, hostID: answer.hostID, hostName: answer.hostName,
                                          credential: answer.credential, caCertificate: caCertificate, enrolledAt: now)
        try enrollment.write(to: stateDirectory)
        return try read(from: stateDirectory) ?? enrollment  // as stored: dates to the millisecond
    }
}

/// The agent's version, as it tells the policy server.
public enum AgentVersion {
    public static let current = "0.1.0"
}
