import ArgumentParser
import Foundation
import VBackupModel
import VBackupPolicy
import VBackupStore

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove restore points that no keep rule (last, hourly, daily, weekly, monthly, yearly) keeps.",
        discussion: """
            Each VM is pruned on its own. Rules run in the order last, hourly, daily, weekly (ISO weeks), \
            monthly, yearly; each keeps the newest point of each of its periods (in the local time zone, \
            $TZ) that no earlier rule covered, until it has kept its count. Protected points are never \
            removed and fill no slot. Immutable points (backup --immutable-for) count toward the rules; \
            one they would remove is kept until its date. Flags override the policy file's rules one by one. Only point \
            metadata is removed, oldest first; the space of chunks no point uses returns with GC.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("vm"), help: ArgumentHelp("Prune only this VM (name or UUID); repeatable.", valueName: "vm"))
    var vms: [String] = []
    @Option(help: ArgumentHelp("Policy file (YAML) with the keep rules and the VMs it covers.", valueName: "file"))
    var policy: String?
    @Option(help: ArgumentHelp("Keep the N newest points.", valueName: "n")) var keepLast: Int?
    @Option(help: ArgumentHelp("Keep the newest point of each of the last N hours.", valueName: "n")) var keepHourly: Int?
    @Option(help: ArgumentHelp("Keep the newest point of each of the last N days.", valueName: "n")) var keepDaily: Int?
    @Option(help: ArgumentHelp("Keep the newest point of each of the last N ISO weeks.", valueName: "n")) var keepWeekly: Int?
    @Option(help: ArgumentHelp("Keep the newest point of each of the last N months.", valueName: "n")) var keepMonthly: Int?
    @Option(help: ArgumentHelp("Keep the newest point of each of the last N years.", valueName: "n")) var keepYearly: Int?
    @Flag(help: "Show the plan; remove nothing.") var dryRun = false
    @Flag(help: "Print JSON.") var json = false

    var flagRules: RetentionRules {
        RetentionRules(keepLast: keepLast, keepHourly: keepHourly, keepDaily: keepDaily,
                       keepWeekly: keepWeekly, keepMonthly: keepMonthly, keepYearly: keepYearly)
    }

    func validate() throws {
        do { try flagRules.validate() } catch { throw ValidationError("--\(error)") }
    }

    func run() throws {
        let policyFile = try policy.map { try Policy.load(path: $0) }
        let rules = (policyFile?.retention ?? RetentionRules()).overridden(by: flagRules)
        guard rules.keepsSomething else { throw RetentionError.noKeepOptions }
        let store = try global.openStore()
        let targets = try PruneTargets.select(store.listPoints(), selectors: vms.isEmpty ? nil : vms)
        let groups = try vms.isEmpty ? policyFile.map { try PruneTargets.covered(by: $0, in: targets) } ?? targets : targets
        let protected = try store.protectedPointIDs()
        var report = PruneReport(dryRun: dryRun, policy: policyFile?.name, rules: rules)
        var failure: Error?
        for group in groups {
            let plan = try Retention.plan(group.candidates(protected: protected), rules: rules, timeZone: .current)
            var result = PruneReport.VM(group: group, plan: plan)
            if !dryRun { failure = remove(plan, from: store, into: &result) }
            report.append(result)
            if failure != nil { break }
        }
        if json { try JSONOutput.print(report) } else { print(report.table()) }
        if let failure { throw failure }
    }

    /// Deletes the plan's removals oldest first, one point at a time, so an interruption leaves
    /// a consistent store; returns the error that stopped it, if any (the result then lists as
    /// removed only the points that are gone). A point another host protected since the plan was
    /// made is reported as protected and kept.
    private func remove(_ plan: RetentionPlan, from store: Store, into result: inout PruneReport.VM) -> Error? {
        let removals = plan.removed.reversed()
        result.removed = []
        for entry in removals {
            if Interruption.isRequested { return PruneInterrupted() }
            do {
                try store.deletePoint(id: entry.point.id)
                result.removed.insert(PruneReport.Point(entry), at: 0)
            } catch is ProtectedPointError {
                result.protected.append(PruneReport.Point(entry))
            } catch let refused as ImmutablePointError {
                result.immutable.append(PruneReport.Point(entry, immutableUntil: refused.until))
            } catch {
                return error
            }
        }
        return nil
    }
}

struct PruneInterrupted: Error, CustomStringConvertible {
    var description: String { "prune interrupted: the points listed as removed are gone, the others remain" }
}

/// The points of one VM (one UUID: a name reused by a new VM is another VM).
struct PruneTarget {
    var vmName: String
    var vmUUID: String
    /// The host of the newest point.
    var host: String
    var points: [PointManifest]

    func candidates(protected: Set<String>) -> [RetentionCandidate] {
        points.map {
            RetentionCandidate(id: $0.id, createdAt: $0.createdAt, isProtected: protected.contains($0.id), immutableUntil: $0.immutableUntil)
        }
    }
}

enum PruneTargets {
    /// Groups points by VM UUID, keeping the VMs a selector (name or UUID) names, or every VM
    /// without selectors. A selector that names no VM in the store is an error.
    static func select(_ points: [PointManifest], selectors: [String]?) throws -> [PruneTarget] {
        var groups: [String: PruneTarget] = [:]
        for point in points {
            groups[point.vmUUID, default: PruneTarget(vmName: point.vmName, vmUUID: point.vmUUID, host: point.host, points: [])]
                .points.append(point)
            groups[point.vmUUID]?.vmName = point.vmName  // points are oldest first: the newest name wins
            groups[point.vmUUID]?.host = point.host
        }
        let all = groups.values.sorted { ($0.vmName, $0.vmUUID) < ($1.vmName, $1.vmUUID) }
        guard let selectors else { return all }
        for selector in selectors where !all.contains(where: { matches($0, selector) }) {
            throw UnknownVM(name: selector)
        }
        return all.filter { target in selectors.contains { matches(target, $0) } }
    }

    /// The targets `policy` selects, judged by the VM's name, UUID and the host of its newest
    /// point. The store records no tags, so a policy that selects by tags is refused rather
    /// than guessed at. A `select.vms` entry that matches no VM in the store (one not backed
    /// up yet, say) is a note.
    static func covered(by policy: Policy, in targets: [PruneTarget]) throws -> [PruneTarget] {
        if policy.selection.tags != nil { throw PolicySelectsByTags(policy: policy.name) }
        for pattern in policy.selection.vms ?? [] where !targets.contains(where: { pattern.matches(name: $0.vmName, uuid: $0.vmUUID) }) {
            FileHandle.standardError.write(Data("note: no points of VM '\(pattern)' in the store\n".utf8))
        }
        return targets.filter { policy.selects(VMFacts(name: $0.vmName, uuid: $0.vmUUID, host: $0.host)) }
    }

    private static func matches(_ target: PruneTarget, _ selector: String) -> Bool {
        target.vmUUID.lowercased() == selector.lowercased()
            || target.vmName == selector || target.points.contains { $0.vmName == selector }
    }
}

struct PolicySelectsByTags: Error, CustomStringConvertible {
    var policy: String
    var description: String {
        "policy '\(policy)' selects VMs by tags, which the store does not record; name the VMs with --vm"
    }
}

struct UnknownVM: Error, CustomStringConvertible {
    var name: String
    var description: String { "no points of VM '\(name)' in the store" }
}
