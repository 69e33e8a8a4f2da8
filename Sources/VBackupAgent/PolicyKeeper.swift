import Foundation
import VBackupPolicy

/// The policies the agent runs on, from the files in its policy folder.
///
/// A file that fails validation never replaces a good one: the agent keeps that file's last
/// good version (and says so in status and the log) until the file is fixed. A new file that
/// was never valid contributes nothing. The folder is re-read when a file changes (name, size
/// or modification time), on `vbackup agent reload` (SIGHUP), and never otherwise.
final class PolicyKeeper {
    struct Loaded {
        var set: PolicySet
        var infos: [AgentStatus.PolicyInfo]
        var errors: [String]
    }

    let directory: URL
    private var lastGood: [String: Policy] = [:]
    private var fingerprint: [String] = []
    private(set) var current = Loaded(set: PolicySet(policies: []), infos: [], errors: [])
    /// Bumped on every reload, so `agent reload` can tell that its request was served.
    private(set) var generation = 0

    init(directory: URL) {
        self.directory = directory
    }

    /// Re-reads the folder when something changed or `force` is set; returns whether it did.
    @discardableResult
    func reloadIfChanged(force: Bool = false) -> Bool {
        let files = policyFiles()
        let print = files.map { file -> String in
            let attributes = try? FileManager.default.attributesOfItem(atPath: file)
            let size = attributes?[.size] as? Int ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(file)|\(size)|\(modified)"
        }
        guard force || print != fingerprint else { return false }
        fingerprint = print
        current = load(files)
        generation += 1
        return true
    }

    private func policyFiles() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            .map { directory.appendingPathComponent($0).path }
    }

    private func load(_ files: [String]) -> Loaded {
        var errors: [String] = []
        if !FileManager.default.fileExists(atPath: directory.path) {
            errors.append("policy folder \(directory.path) does not exist")
        }
        var policies: [Policy] = []
        var infos: [AgentStatus.PolicyInfo] = []
        var names: [String: String] = [:]
        lastGood = lastGood.filter { files.contains($0.key) }
        for file in files {
            let result = PolicySet.load(files: [file])
            var kept = false
            if let policy = result.policies.first, result.errors.isEmpty {
                lastGood[file] = policy
            } else {
                errors += result.errors.map(\.description)
                kept = lastGood[file] != nil
                if let previous = lastGood[file] { errors.append("policy file \(file): keeping its last good version (policy \(previous.name))") }
            }
            guard let policy = lastGood[file] else { continue }
            if let other = names[policy.name] {
                errors.append("policy file \(file): policy name '\(policy.name)' is already used by \(other); this file is ignored")
                continue
            }
            names[policy.name] = file
            policies.append(policy)
            infos.append(AgentStatus.PolicyInfo(name: policy.name, file: file, keptLastGood: kept))
        }
        return Loaded(set: PolicySet(policies: policies), infos: infos, errors: errors)
    }
}
