import ArgumentParser
import Foundation
import VBackupPolicy

/// `vbackup policy ...`: policy files (`policies/README.md` is the format's reference): `check`
/// here, and `apply` and `list` on the policy server (`PolicyApplyCommand.swift`).
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Check policy files and explain what they do; apply them to the policy server.",
        subcommands: [Check.self, Apply.self, List.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate policy files and explain them in plain words.",
            discussion: """
                For each valid file: what it selects, each schedule in English with its time zone, \
                window, jitter, mode and next 3 fire times, retention, store, encryption and throttles. \
                Every error of every file is listed on stderr as 'policy file FILE:LINE: what is wrong'. \
                A folder stands for its *.yaml and *.yml files; a name used by two of the files is an error.
                Exit status: 0 when every file is valid, 1 otherwise.
                """)

        @Argument(help: ArgumentHelp("Policy files (YAML) or folders of them.", valueName: "file"))
        var files: [String]
        @Flag(help: "Print JSON: {\"files\": [{\"file\", \"ok\", \"errors\": [{\"line\", \"message\"}], \"policy\"}]}.")
        var json = false

        func run() throws {
            let results = PolicyCheck.run(paths: files, now: Date())
            if json {
                try JSONOutput.print(PolicyCheck.Report(files: results))
            } else {
                for result in results { result.print() }
            }
            if results.contains(where: { !$0.ok }) { throw ExitCode.failure }
        }
    }
}

/// The results of `vbackup policy check`, one per file, in the order given (folders expanded).
enum PolicyCheck {
    struct Report: Encodable {
        var files: [FileResult]
    }

    struct FileResult: Encodable {
        struct Problem: Encodable {
            /// Null when the problem is not on one line (a missing file, an empty one).
            var line: Int?
            var message: String
        }

        var file: String
        var ok: Bool { errors.isEmpty }
        var errors: [Problem]
        /// Present only when `ok`.
        var policy: PolicyReport?

        enum CodingKeys: String, CodingKey { case file, ok, errors, policy }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(file, forKey: .file)
            try container.encode(ok, forKey: .ok)
            try container.encode(errors, forKey: .errors)
            try container.encodeIfPresent(policy, forKey: .policy)
        }

        /// The explanation on stdout, or every error on stderr.
        func print() {
            if let policy, ok {
                Swift.print(([file + ": valid"] + policy.lines.map { "  " + $0 }).joined(separator: "\n"))
                return
            }
            let text = errors.map { PolicyFileError(file: file, line: $0.line, message: $0.message).description + "\n" }
            FileHandle.standardError.write(Data(text.joined().utf8))
        }
    }

    /// Checks the files (and the files of the folders) together, so that duplicate names
    /// across them are found as the agent would find them in its folder.
    static func run(paths: [String], now: Date) -> [FileResult] {
        var files: [String] = [], folderErrors: [PolicyFileError] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
                files.append(path)
                continue
            }
            do { files += try PolicySet.files(in: path) } catch { folderErrors.append(error) }
        }
        var seen = Set<String>()
        files = files.filter { seen.insert($0).inserted }  // a file named twice is not a duplicate name
        let set = PolicySet.load(files: files)
        return (folderErrors.map(\.file) + files).map { file in
            let errors = (folderErrors + set.errors).filter { $0.file == file }
            return FileResult(
                file: file, errors: errors.map { FileResult.Problem(line: $0.line, message: $0.message) },
                policy: errors.isEmpty ? set.policies.first { $0.file == file }.map { PolicyReport($0, now: now) } : nil)
        }
    }
}
