import ArgumentParser
import FleetAPI
import FleetClient
import Foundation
import VBackupAgent

/// `vbackup agent enroll`: joins this host to a policy server, after which the agent takes its
/// policies from the server and reports to it.
struct AgentEnrollCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll", abstract: "Join this host to a policy server with a one-time enrollment token.",
        discussion: """
            Writes the host's credential to <state dir>/server.json (mode 0600). From its next start the \
            agent takes its policies from the server (cached in <state dir>/server-policies/, so it goes \
            on backing up while the server is away) and no longer reads its --policies folder.
            """)

    @OptionGroup var directory: AgentDirectoryOptions
    @Option(help: ArgumentHelp("The policy server (default: $VBACKUP_SERVER).", valueName: "url")) var server: String?
    @Option(help: ArgumentHelp("The enrollment token (vbe_…) from `vbackup hosts token`.", valueName: "token")) var token: String
    @Option(help: ArgumentHelp("PEM certificate of the server (or its CA) to trust instead of the system's roots.", valueName: "pem"))
    var caCert: String?
    @Option(help: ArgumentHelp("The name the host has on the server (default: this host's name).", valueName: "name"))
    var hostName: String?

    func run() throws {
        if let existing = try ServerEnrollment.read(from: directory.url) {
            throw ValidationError("this host is already enrolled (\(existing)); `vbackup agent leave` first")
        }
        guard let address = server ?? ProcessInfo.processInfo.environment["VBACKUP_SERVER"] else {
            throw ValidationError("name the policy server with --server URL")
        }
        let url = try ServerURL.parse(address)
        let certificate = try caCert.map { path -> String in
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            guard FileManager.default.isReadableFile(atPath: absolute) else { throw ValidationError("cannot read --ca-cert \(absolute)") }
            return absolute
        }
        let enrollment = try ServerEnrollment.enroll(server: url, token: token, hostName: hostName ?? Self.localHostName,
                                                     caCertificate: certificate, stateDirectory: directory.url)
        print("enrolled as \(enrollment.hostName) (\(enrollment.hostID)) with \(enrollment.server)")
        if AgentProcess.isRunning(stateDirectory: directory.url) {
            print("restart the agent (systemctl restart vbackup-agent) to take its policies from the server")
        }
    }

    static var localHostName: String {
        var buffer = [UInt8](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return ProcessInfo.processInfo.hostName }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// `vbackup agent leave`: forgets the policy server.
struct AgentLeaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leave", abstract: "Forget the policy server: remove <state dir>/server.json.",
        discussion: "From its next start the agent reads its --policies folder again. The server still lists the host until an admin revokes it.")

    @OptionGroup var directory: AgentDirectoryOptions

    func run() throws {
        guard let enrollment = try ServerEnrollment.read(from: directory.url) else {
            throw AgentError.notRunning("this host is not enrolled (no \(directory.url.appendingPathComponent(ServerEnrollment.fileName).path))")
        }
        try ServerEnrollment.remove(from: directory.url)
        print("left \(enrollment.server) (host \(enrollment.hostName), \(enrollment.hostID))")
        if AgentProcess.isRunning(stateDirectory: directory.url) {
            print("restart the agent (systemctl restart vbackup-agent) to go back to its policy folder")
        }
    }
}
