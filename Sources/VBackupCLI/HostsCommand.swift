import ArgumentParser
import FleetAPI
import FleetClient
import Foundation

/// `vbackup hosts`: the hosts enrolled with the policy server (the default subcommand), a token
/// to enroll one more, and revoking one.
struct HostsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosts", abstract: "List the hosts of the policy server; make enrollment tokens; revoke hosts.",
        subcommands: [List.self, Token.self, Revoke.self], defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the enrolled hosts and their health (the default).")

        @OptionGroup var fleet: FleetOptions
        @Flag(help: "Print JSON: [HostInfo].") var json = false

        func run() throws {
            let hosts = try fleet.call { try await $0.hosts() }.sorted { ($0.name, $0.id) < ($1.name, $1.id) }
            if json { return try APIOutput.print(hosts) }
            let now = Date()
            print(Human.table(["HOST", "ID", "HEALTH", "LAST CONTACT", "VMS", "GROUPS", "AGENT", "PROBLEMS"], hosts.map { host in
                [host.name, host.id, host.health.rawValue,
                 host.lastContact.map { FleetText.duration(now.timeIntervalSince($0)) + " ago" } ?? "never",
                 "\(host.vmCount)", FleetText.list(host.groups), host.agentVersion,
                 (host.problems + host.policyErrors).joined(separator: "; ")]
            }))
        }
    }

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a one-time enrollment token (vbe_…) for a new host.",
            discussion: "On the host: vbackup agent enroll --server URL --token TOKEN. The token is shown once.")

        @OptionGroup var fleet: FleetOptions
        @Option(help: ArgumentHelp("Only a host of this name may use the token.", valueName: "host")) var name: String?
        @Option(help: ArgumentHelp("A group the host joins (repeat, or comma-separate).", valueName: "group")) var group: [String] = []
        @Option(help: ArgumentHelp("How long the token is valid: 30m, 12h, 1d (default 1d, at most 30d).", valueName: "duration"))
        var expires: String?
        @Flag(help: "Print JSON: EnrollmentTokenCreated.") var json = false

        func validate() throws {
            if let expires, Self.seconds(expires) == nil {
                throw ValidationError("--expires wants a duration such as 30m, 12h or 1d, not '\(expires)'")
            }
        }

        func run() throws {
            let request = EnrollmentTokenRequest(hostName: name, groups: PolicyCommand.Apply.list(group),
                                                 expiresInSeconds: expires.flatMap(Self.seconds))
            let created = try fleet.call { try await $0.createEnrollmentToken(request) }
            if json { return try APIOutput.print(created) }
            print(created.token)
            let who = created.hostName.map { "host \($0) only" } ?? "any host name"
            print("expires \(Human.date(created.expiresAt)); \(who); groups: \(FleetText.list(created.groups))")
            print("on the host: vbackup agent enroll --server \(try fleet.serverURL.absoluteString) --token \(created.token)")
        }

        /// `90s`, `30m`, `12h`, `1d`.
        static func seconds(_ text: String) -> Int? {
            let units: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
            guard let unit = text.last.flatMap({ units[$0] }), let count = Int(text.dropLast()), count > 0 else { return nil }
            return count * unit
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a host: its credential stops working at once (it keeps backing up on its cached policies).")

        @OptionGroup var fleet: FleetOptions
        @Argument(help: ArgumentHelp("The host's id, or its name when no other host has it.", valueName: "host")) var host: String

        func run() throws {
            let wanted = host
            let revoked = try fleet.call { client in
                let hosts = try await client.hosts()
                let id = try Self.resolve(wanted, among: hosts)
                return try await client.revokeHost(id: id)
            }
            print("revoked \(revoked.name) (\(revoked.id)): its credential no longer works; enroll it again to bring it back")
        }

        static func resolve(_ wanted: String, among hosts: [HostInfo]) throws -> String {
            if hosts.contains(where: { $0.id == wanted }) { return wanted }
            let named = hosts.filter { $0.name == wanted }
            switch named.count {
            case 1: return named[0].id
            case 0: throw FleetLookupError(description: "no host has the id or name '\(wanted)' (see `vbackup hosts`)")
            default: throw FleetLookupError(description: "\(named.count) hosts are named '\(wanted)' (\(named.map(\.id).joined(separator: ", "))); give the id")
            }
        }
    }
}
