import ArgumentParser
import FleetAPI
import FleetClient
import Foundation
import VBackupPolicy

extension PolicyCommand {
    /// `vbackup policy apply FILE...`: checks every file with the agent's own parser, then sends
    /// them to the policy server, each as a new version of its policy unless the text is unchanged.
    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check policy files, then create or update them on the policy server.",
            discussion: """
                Every file is checked first, as `vbackup policy check` does; if any has an error nothing is \
                sent. Without --hosts or --groups a new policy goes to every host and an existing one keeps \
                its assignment; with them, the policy goes to hosts whose name matches a glob or that belong \
                to a group. Prints each policy's name, version and whether a version was created.
                """)

        @OptionGroup var fleet: FleetOptions
        @Argument(help: ArgumentHelp("Policy files (YAML).", valueName: "file")) var files: [String]
        @Option(help: ArgumentHelp("Host name globs that receive the policies, comma-separated.", valueName: "glob,…"))
        var hosts: [String] = []
        @Option(help: ArgumentHelp("Host groups that receive the policies, comma-separated.", valueName: "group,…"))
        var groups: [String] = []
        @Flag(help: "Print JSON: [{\"created\", \"policy\": PolicyDocument}].") var json = false

        struct Result: Encodable, Sendable {
            var created: Bool
            var policy: PolicyDocument
        }

        func run() throws {
            let checked = try Self.check(files)
            let assignment = hosts.isEmpty && groups.isEmpty ? nil
                : PolicyAssignment(hosts: Self.list(hosts), groups: Self.list(groups))
            let results = try fleet.call { client in
                var results: [Result] = []
                for (name, yaml) in checked {
                    let applied = try await client.applyPolicy(name: name, PolicyApplyRequest(yaml: yaml, assignment: assignment))
                    results.append(Result(created: applied.created, policy: applied.document))
                }
                return results
            }
            if json { return try APIOutput.print(results) }
            print(Human.table(["POLICY", "VERSION", "RESULT", "HOSTS", "GROUPS"], results.map {
                [$0.policy.name, "\($0.policy.version)", $0.created ? "created" : "unchanged",
                 FleetText.list($0.policy.assignment.hosts), FleetText.list($0.policy.assignment.groups)]
            }))
        }

        /// Each file's policy name and text, or every error of every file (on stderr) and exit 1.
        static func check(_ files: [String]) throws -> [(name: String, yaml: String)] {
            var checked: [(String, String)] = [], errors: [PolicyFileError] = []
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else {
                    errors.append(PolicyFileError(file: file, line: nil, message: "cannot be read"))
                    continue
                }
                let text = String(decoding: data, as: UTF8.self)
                let (policy, problems) = Policy.read(text, file: file)
                errors += problems
                if let policy, problems.isEmpty { checked.append((policy.name, text)) }
            }
            let names = Dictionary(grouping: checked.map(\.0), by: { $0 }).filter { $0.value.count > 1 }.keys
            for name in names.sorted() {
                errors.append(PolicyFileError(file: files.joined(separator: ", "), line: nil, message: "name '\(name)' is used by more than one file"))
            }
            guard errors.isEmpty else {
                FileHandle.standardError.write(Data(errors.map { "vbackup: \($0)\n" }.joined().utf8))
                throw ExitCode.failure
            }
            return checked
        }

        static func list(_ values: [String]) -> [String] {
            values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }

    /// `vbackup policy list`: the policies on the server and who receives them.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the policies on the policy server.")

        @OptionGroup var fleet: FleetOptions
        @Flag(help: "Print JSON: [PolicySummary].") var json = false

        func run() throws {
            let policies = try fleet.call { try await $0.policies() }.sorted { $0.name < $1.name }
            if json { return try APIOutput.print(policies) }
            print(Human.table(["POLICY", "VERSION", "HOSTS", "ASSIGNED TO", "UPDATED", "SHA-256"], policies.map {
                [$0.name, "\($0.version)", "\($0.hostCount)", Self.describe($0.assignment), Human.date($0.updatedAt), String($0.sha256.prefix(12))]
            }))
        }

        static func describe(_ assignment: PolicyAssignment) -> String {
            let parts = assignment.hosts.map { "host \($0)" } + assignment.groups.map { "group \($0)" }
            return parts.isEmpty ? "nobody" : parts.joined(separator: ", ")
        }
    }
}
