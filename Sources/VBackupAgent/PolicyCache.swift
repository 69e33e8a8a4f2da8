import FleetAPI
import Foundation
import VBackupPolicy

/// The policy server's policies as this host keeps them: `<state dir>/server-policies/`, one
/// `<name>.yaml` per policy in force, which `PolicyKeeper` reads like any policy folder, and
/// `bundle.json`: the etag of the last bundle applied, the version of each policy in force and
/// the policies refused.
///
/// The cache is what the agent runs on, so it only ever holds policies this build validated:
/// a bundle entry that fails `Policy.read` is refused and the file of its previous version
/// stays (a policy never seen valid has no file); a server that cannot be reached changes
/// nothing. The folder survives restarts, so the agent backs up on its last known policies
/// while the server is down, however long.
struct PolicyCache {
    struct State: Codable, Equatable {
        var etag: String?
        /// Versions of the policies whose files are in the folder.
        var versions: [String: Int] = [:]
        /// Refused entries of the last bundle: name → one line per error (`NAME vN: line L: what`).
        var refused: [String: [String]] = [:]
    }

    /// What applying a bundle did.
    struct Outcome: Equatable {
        var written: [String] = []
        var removed: [String] = []
        var refused: [String: [String]] = [:]
        /// Whether the files changed, so the policies must be reloaded.
        var changed: Bool { !written.isEmpty || !removed.isEmpty }
    }

    static let stateFile = "bundle.json"
    let directory: URL

    init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var state: State {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(Self.stateFile).path),
              let state = try? APIJSON.decoder().decode(State.self, from: data) else { return State() }
        return state
    }

    /// Brings the folder in line with `bundle`: writes the valid entries, keeps the previous
    /// file of a refused one, removes the files of policies the bundle no longer holds, and
    /// records the bundle's etag (a refused entry is not fetched again until the server
    /// changes the bundle; the refusal stays in the state, so status and reports keep it).
    func apply(_ bundle: PolicyBundle, hostTimeZone: TimeZone = .current) throws -> Outcome {
        var state = self.state
        var outcome = Outcome()
        let names = Set(bundle.policies.map(\.name))
        for entry in bundle.policies {
            let problems = Self.problems(of: entry, file: file(entry.name).path, hostTimeZone: hostTimeZone)
            if !problems.isEmpty {
                outcome.refused[entry.name] = problems
                if !FileManager.default.fileExists(atPath: file(entry.name).path) { state.versions[entry.name] = nil }
                continue
            }
            if FileManager.default.contents(atPath: file(entry.name).path) != Data(entry.yaml.utf8) {
                try AtomicFile.write(Data(entry.yaml.utf8), to: file(entry.name))
                outcome.written.append(entry.name)
            }
            state.versions[entry.name] = entry.version
        }
        for (name, path) in try cachedFiles() where !names.contains(name) {
            try FileManager.default.removeItem(atPath: path)
            outcome.removed.append(name)
        }
        state.versions = state.versions.filter { names.contains($0.key) }
        state.etag = bundle.etag
        state.refused = outcome.refused
        try save(state)
        return outcome
    }

    private func file(_ name: String) -> URL { directory.appendingPathComponent("\(name).yaml") }

    /// Every policy file in the folder, by the name its file carries.
    private func cachedFiles() throws -> [(String, String)] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .map { (String($0.prefix(upTo: $0.lastIndex(of: ".")!)), directory.appendingPathComponent($0).path) }
    }

    private func save(_ state: State) throws {
        try AtomicFile.write(try APIJSON.encoder().encode(state), to: directory.appendingPathComponent(Self.stateFile))
    }

    /// Why an entry cannot be run here; empty when it can.
    static func problems(of entry: PolicyBundle.Entry, file: String, hostTimeZone: TimeZone) -> [String] {
        let label = "\(entry.name) v\(entry.version)"
        guard isUsableName(entry.name) else { return ["\(label): the name cannot be a file name here (letters, digits, . _ - only)"] }
        let (policy, errors) = Policy.read(entry.yaml, file: file, hostTimeZone: hostTimeZone)
        var problems = errors.map { error in "\(label): " + (error.line.map { "line \($0): " } ?? "") + error.message }
        if let policy, policy.name != entry.name {
            problems.append("\(label): the file says name: '\(policy.name)', the server calls it '\(entry.name)'")
        }
        return problems
    }

    static func isUsableName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && name.count <= 200 && name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
        }
    }
}
