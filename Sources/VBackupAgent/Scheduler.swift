import Foundation
import VBackupPolicy

/// Decides, from the policies, the VMs and the journal's record of handled firings, which
/// backups and drills are due now. Pure apart from the journal lookup, and time is a parameter.
/// A policy's drill calendar is one more schedule, of index `Schedule.drillIndex`, whose
/// firings make drill jobs.
///
/// A VM's run of a schedule starts at the calendar's fire time plus the VM's jitter (stable per
/// VM, so 200 VMs fire spread over the jitter instead of all at 01:00:00). A firing is due when
/// its start has passed, its window is still open and the journal has not handled it: so a run
/// missed while the agent was down, or before the VM existed, is caught up as soon as the agent
/// sees it, and never after its window closed.
struct Scheduler {
    struct Due: Equatable {
        var policy: String
        var scheduleIndex: Int
        var vm: VMFacts
        var firedAt: Date
        var windowEnd: Date
        var fullBackup: Bool
        var priority: Int
        var trigger: JobRecord.Trigger
        var kind: JobRecord.Kind
    }

    var policies: PolicySet
    var agentStartedAt: Date

    func due(vms: [VMFacts], now: Date, lastFiring: (String, Int, String) throws -> Date?) rethrows -> [Due] {
        var result: [Due] = []
        for vm in vms {
            guard let policy = policies.policy(for: vm) else { continue }
            for schedule in Self.schedules(of: policy, for: vm) {
                let jitter = schedule.jitterOffset(vmUUID: vm.uuid)
                guard let fired = schedule.occurrence(atOrBefore: now.addingTimeInterval(-jitter)) else { continue }
                let windowEnd = fired.addingTimeInterval(schedule.window)
                guard now < windowEnd else { continue }
                if let last = try lastFiring(policy.name, schedule.index, vm.uuid), last >= fired { continue }
                let start = fired.addingTimeInterval(jitter)
                result.append(Due(policy: policy.name, scheduleIndex: schedule.index, vm: vm, firedAt: fired, windowEnd: windowEnd,
                                  fullBackup: !schedule.isDrill && schedule.mode == .full, priority: policy.priority,
                                  trigger: start < agentStartedAt ? .catchUp : .schedule, kind: Self.kind(of: schedule)))
            }
        }
        return result
    }

    /// The backup schedules of a policy, then its drill calendar, then its copy calendar when
    /// the copy covers `vm`.
    static func schedules(of policy: Policy, for vm: VMFacts) -> [Schedule] {
        let copy = policy.copy.flatMap { $0.copies(vm) ? $0.schedule : nil }
        return policy.schedules + [policy.drill?.schedule, copy].compactMap { $0 }
    }

    static func kind(of schedule: Schedule) -> JobRecord.Kind {
        schedule.isDrill ? .drill : schedule.isCopy ? .copy : .backup
    }

    /// The next start of each VM's schedules (and drill) after `now`, soonest first (for `status`).
    func upcoming(vms: [VMFacts], now: Date, limit: Int) -> [AgentStatus.Upcoming] {
        var result: [AgentStatus.Upcoming] = []
        for vm in vms {
            guard let policy = policies.policy(for: vm) else { continue }
            for schedule in Self.schedules(of: policy, for: vm) {
                let jitter = schedule.jitterOffset(vmUUID: vm.uuid)
                guard let next = schedule.next(after: now.addingTimeInterval(-jitter)) else { continue }
                result.append(AgentStatus.Upcoming(vm: vm.name, policy: policy.name, at: next.addingTimeInterval(jitter),
                                                   kind: Self.kind(of: schedule) == .backup ? nil : Self.kind(of: schedule).rawValue))
            }
        }
        return Array(result.sorted { $0.at < $1.at }.prefix(limit))
    }
}
