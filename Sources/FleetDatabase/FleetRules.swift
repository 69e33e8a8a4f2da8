import FleetAPI
import Foundation

/// The rules the reads apply, as pure functions over plain values: which hosts a policy
/// reaches, a bundle's etag, when a VM is overdue, a host's health, a job's night.
enum FleetRules {
    /// No contact for longer than this makes a host unreachable.
    static let unreachableAfter: TimeInterval = 600
    /// Job states that count as a failure (health, `JobFilter.failedOnly`, nightly throughput).
    static let failedStates = ["failed", "missed", "interrupted"]
    /// The job kind of a backup (what a job report without a kind is); the other is `drill`.
    static let backupKind = "backup"

    /// A host receives a policy when its name matches one of the assignment's globs or it is
    /// in one of its groups.
    static func assigns(_ assignment: PolicyAssignment, hostName: String, groups: [String]) -> Bool {
        assignment.hosts.contains { glob($0, matches: hostName) } || assignment.groups.contains { groups.contains($0) }
    }

    /// Shell-style: `*` any run of characters (also none), `?` exactly one; everything else literal.
    static func glob(_ pattern: String, matches name: String) -> Bool {
        let pattern = Array(pattern), name = Array(name)
        var p = 0, n = 0
        var star: Int?, starName = 0
        while n < name.count {
            if p < pattern.count, pattern[p] == "?" || pattern[p] == name[n] {
                p += 1
                n += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p
                starName = n
                p += 1
            } else if let lastStar = star {
                p = lastStar + 1
                starName += 1
                n = starName
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }

    /// Hex SHA-256 over one "name\0version\0sha256\n" line per entry, entries sorted by name:
    /// it changes exactly when an entry comes, goes or changes version.
    static func bundleEtag(_ entries: [PolicyBundle.Entry]) -> String {
        let lines = entries.sorted { $0.name < $1.name }.map { "\($0.name)\u{0}\($0.version)\u{0}\($0.sha256)\n" }
        return Secrets.sha256Hex(Data(lines.joined().utf8))
    }

    /// A policy selects the VM, the policy gives a maximum point age, and the last point is
    /// older than that, or there is no point and the VM was first seen longer ago than that.
    static func isOverdue(policy: String?, maximumPointAgeSeconds: Double?, lastPointAt: Date?, firstSeen: Date,
                          now: Date) -> Bool {
        guard policy != nil, let maximum = maximumPointAgeSeconds else { return false }
        return now.timeIntervalSince(lastPointAt ?? firstSeen) > maximum
    }

    /// Revoked, else unreachable (no contact for 10 minutes), else warning (a VM's latest backup
    /// job or latest drill failed, a VM is overdue, the agent refused a policy), else ok. `problems` has one line
    /// per reason, the warnings' too when the host is also unreachable.
    static func health(revoked: Bool, lastContact: Date?, vms: [VMInfo], policyErrors: [String], now: Date)
        -> (health: HostInfo.Health, problems: [String]) {
        if revoked { return (.revoked, ["credential revoked"]) }
        var warnings: [String] = []
        for vm in vms {
            if let state = vm.lastJobState, failedStates.contains(state) {
                warnings.append("VM \(vm.name): last job \(state)")
            }
            if vm.overdue {
                let allowed = vm.maximumPointAgeSeconds.map(duration) ?? "?"
                let age = vm.lastPointAgeSeconds.map { "last point \(duration($0)) ago" } ?? "no point yet"
                warnings.append("VM \(vm.name): overdue, \(age) (policy \(vm.policy ?? "?") allows \(allowed))")
            }
            if let drill = vm.lastDrill, drill.outcome == "failed" {
                warnings.append("VM \(vm.name): last drill failed: \(drill.failure ?? "no reason given")")
            }
        }
        warnings += policyErrors.map { "policy refused: \($0)" }
        let silence = lastContact.map { now.timeIntervalSince($0) }
        if silence.map({ $0 > unreachableAfter }) ?? true {
            let line = silence.map { "no contact for \(duration($0))" } ?? "never in contact"
            return (.unreachable, [line] + warnings)
        }
        return warnings.isEmpty ? (.ok, []) : (.warning, warnings)
    }

    /// "45 s", "12 min", "5 h", "3 d": the unit a person reads at a glance.
    static func duration(_ seconds: Double) -> String {
        switch seconds {
        case ..<120: "\(Int(seconds.rounded())) s"
        case ..<7_200: "\(Int((seconds / 60).rounded())) min"
        case ..<172_800: "\(Int((seconds / 3_600).rounded())) h"
        default: "\(Int((seconds / 86_400).rounded())) d"
        }
    }

    /// The night a job belongs to: the UTC date of its start minus 12 hours, so that a backup
    /// window across midnight is one night (yyyy-MM-dd).
    static func night(of start: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let day = calendar.dateComponents([.year, .month, .day], from: start.addingTimeInterval(-43_200))
        return String(format: "%04d-%02d-%02d", day.year ?? 0, day.month ?? 0, day.day ?? 0)
    }
}
