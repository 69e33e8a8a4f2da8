import Foundation
import VBackupPolicy

/// What `prune` did (or, with `--dry-run`, would do). The JSON field names are part of the CLI's
/// stable contract:
///
/// ```json
/// {"dryRun": false, "policy": "default", "rules": {"keep-daily": 7, "keep-last": 3},
///  "vms": [{"vm": "web1", "vmUUID": "…",
///           "kept": [{"id": "…", "createdAt": "…", "rules": ["last"]}],
///           "removed": [{"id": "…", "createdAt": "…"}],
///           "protected": [{"id": "…", "createdAt": "…"}],
///           "immutable": [{"id": "…", "createdAt": "…", "immutableUntil": "…"}]}],
///  "removedCount": 1}
/// ```
///
/// Lists are newest first. `immutable` lists the points no rule keeps that stay because the
/// storage's object lock retains them until `immutableUntil`. `rules` names the rule that kept the point (one today; a list so it
/// can grow). `removedCount` counts the `removed` entries: points removed, or to be removed in
/// a dry run.
struct PruneReport: Encodable {
    struct Point: Encodable {
        var id: String
        var createdAt: Date
        var rules: [String]?
        var immutableUntil: Date?

        init(_ entry: RetentionPlan.Entry) {
            id = entry.point.id
            createdAt = entry.point.createdAt
            if case .keep(let rule) = entry.decision { rules = [rule.rawValue] }
            if case .immutable(let until) = entry.decision { immutableUntil = until }
        }

        /// A point the plan would remove that the storage refused to let go.
        init(_ entry: RetentionPlan.Entry, immutableUntil: Date?) {
            self.init(entry)
            self.immutableUntil = immutableUntil ?? entry.point.immutableUntil
        }
    }

    struct VM: Encodable {
        var vm: String
        var vmUUID: String
        var kept: [Point]
        var removed: [Point]
        var protected: [Point]
        var immutable: [Point]
        /// Why each point got its decision, for the table.
        fileprivate var reasons: [String: String] = [:]

        enum CodingKeys: String, CodingKey {
            case vm, vmUUID, kept, removed, protected, immutable
        }

        init(group: PruneTarget, plan: RetentionPlan) {
            vm = group.vmName
            vmUUID = group.vmUUID
            kept = plan.kept.map(Point.init)
            removed = plan.removed.map(Point.init)
            protected = plan.protected.map(Point.init)
            immutable = plan.immutable.map(Point.init)
            for entry in plan.entries { reasons[entry.point.id] = Self.reason(entry.decision) }
        }

        private static func reason(_ decision: RetentionDecision) -> String {
            switch decision {
            case .keep(let rule): return rule == .last ? "keep-last" : "\(rule.key): newest of its \(rule.period)"
            case .remove(let rule?): return "\(rule.key): a newer point covers its \(rule.period)"
            case .remove(nil): return "beyond every keep rule"
            case .protected: return "protected"
            case .immutable(let until): return "kept: immutable until \(Human.date(until))"
            }
        }
    }

    var dryRun: Bool
    var policy: String?
    var rules: RetentionRules
    var vms: [VM] = []
    var removedCount: Int { vms.reduce(0) { $0 + $1.removed.count } }

    enum CodingKeys: String, CodingKey {
        case dryRun, policy, rules, vms, removedCount
    }

    mutating func append(_ vm: VM) { vms.append(vm) }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dryRun, forKey: .dryRun)
        try container.encode(policy, forKey: .policy)
        try container.encode(rules, forKey: .rules)
        try container.encode(vms, forKey: .vms)
        try container.encode(removedCount, forKey: .removedCount)
    }

    /// One row per point, newest first within each VM, then a summary line.
    func table() -> String {
        var rows: [[String]] = []
        for vm in vms {
            let all = [(vm.kept, "KEEP"), (vm.removed, "REMOVE"), (vm.protected, "PROTECTED"), (vm.immutable, "IMMUTABLE")]
                .flatMap { list, action in list.map { ($0, action) } }
                .sorted { ($0.0.createdAt, $0.0.id) > ($1.0.createdAt, $1.0.id) }
            for (point, action) in all {
                let reason = action == "IMMUTABLE"
                    ? "kept: immutable" + (point.immutableUntil.map { " until \(Human.date($0))" } ?? "") : vm.reasons[point.id] ?? ""
                rows.append([point.id, vm.vm, Human.date(point.createdAt), action, reason])
            }
        }
        let total = vms.reduce(0) { $0 + $1.kept.count + $1.removed.count + $1.protected.count + $1.immutable.count }
        let verb = dryRun ? "dry run: would remove" : "removed"
        let summary = "\(verb) \(removedCount) of \(total) points (\(vms.count) VMs; \(rules.summary))"
        return rows.isEmpty ? summary : Human.table(["ID", "VM", "TIME", "ACTION", "REASON"], rows) + "\n" + summary
    }
}
