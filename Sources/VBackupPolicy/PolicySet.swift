import Foundation

/// The policies of a folder, as the agent uses them: which policy backs up a VM, and the
/// host-wide limits they add up to. A file with errors contributes nothing (a half-read
/// policy could back up the wrong VMs, or none), but the valid files still apply, and
/// `errors` lists every problem so the agent can report them.
public struct PolicySet: Sendable {
    /// Valid policies, in file order (files sorted by path).
    public var policies: [Policy]
    public var errors: [PolicyFileError]

    public init(policies: [Policy], errors: [PolicyFileError] = []) {
        self.policies = policies
        self.errors = errors
    }

    /// Every `*.yaml` and `*.yml` file directly in `directory`, in name order.
    public static func load(directory: String, hostTimeZone: TimeZone = .current) -> PolicySet {
        do {
            return load(files: try files(in: directory), hostTimeZone: hostTimeZone)
        } catch {
            return PolicySet(policies: [], errors: [error])
        }
    }

    /// The paths of the `*.yaml` and `*.yml` files directly in `directory`, in name order.
    public static func files(in directory: String) throws(PolicyFileError) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            let reason = FileManager.default.fileExists(atPath: directory) ? "cannot be listed" : "does not exist"
            throw PolicyFileError(file: directory, line: nil, message: "policy folder \(reason)")
        }
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            .map { URL(fileURLWithPath: directory).appendingPathComponent($0).path }
    }

    /// These files, in this order. When two files use the same name, the first keeps it and the
    /// second is refused with an error naming both: running either silently could back up the
    /// wrong VMs.
    public static func load(files: [String], hostTimeZone: TimeZone = .current) -> PolicySet {
        var set = PolicySet(policies: [])
        for file in files {
            let (policy, errors) = Policy.read(path: file, hostTimeZone: hostTimeZone)
            set.errors += errors
            guard let policy else { continue }
            if let first = set.policies.first(where: { $0.name == policy.name }) {
                let place = first.nameLine.map { "\(first.file):\($0)" } ?? first.file
                set.errors.append(PolicyFileError(
                    file: file, line: policy.nameLine,
                    message: "name: '\(policy.name)' is already the name of the policy in \(place); names must be unique"))
                continue
            }
            set.policies.append(policy)
        }
        return set
    }

    /// The policy named `name`, if the set holds it (jobs name their policy).
    public func policy(named name: String) -> Policy? {
        policies.first { $0.name == name }
    }

    /// The policy that backs up `vm`: of those that select it, the one with the highest
    /// priority, and on a tie the first by name. Nil when none selects it.
    public func policy(for vm: VMFacts) -> Policy? {
        selecting(vm).first
    }

    /// The other policies that also select `vm` and lose to `policy(for:)`: the agent reports
    /// them, as an overlap is more often a mistake than a plan.
    public func conflicts(for vm: VMFacts) -> [Policy] {
        Array(selecting(vm).dropFirst())
    }

    /// The host-wide limits at `date` (see `HostLimits`). With `host`, only the policies whose
    /// `select.hosts` include it take part; without, every policy does.
    public func hostLimits(at date: Date, host: String? = nil) -> HostLimits {
        HostLimits(strictestOf: policies.filter { policy in host.map(policy.selection.appliesTo(host:)) ?? true }, at: date)
    }

    /// The policies selecting `vm`, the winner first.
    private func selecting(_ vm: VMFacts) -> [Policy] {
        policies.filter { $0.selects(vm) }.sorted { ($1.priority, $0.name) < ($0.priority, $1.name) }
    }
}
