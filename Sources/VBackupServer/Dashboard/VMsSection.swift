import FleetAPI
import Foundation

/// `#vms`: every VM the agents reported, with the policy that selects it, its last
/// successful point and when it last passed a DR drill. An overdue VM's row has class
/// `overdue` (red) and says "overdue" in words too, and overdue VMs come first: they are what
/// an admin opens the page for. A VM whose last drill failed has its drill cell marked
/// (`drill-failed`), with the reason.
enum VMsSection {
    static func render(_ vms: [VMInfo], now: Date) -> HTML {
        let overdueCount = vms.filter(\.overdue).count
        let failedDrills = vms.filter { $0.lastDrill?.outcome == "failed" }.count
        let notes = [overdueCount > 0 ? "\(overdueCount) overdue" : nil,
                     failedDrills > 0 ? "\(failedDrills) failed drill" + (failedDrills == 1 ? "" : "s") : nil].compactMap { $0 }
        let note: HTML = notes.isEmpty ? .empty : "<span class=\"note\">\(notes.joined(separator: ", "))</span>"
        let content = vms.isEmpty
            ? PageLayout.emptyState("No VMs reported")
            : PageLayout.table(
                headers: ["Host", "VM", "Policy", "Last point", "Age", "Drill passed", "Status"],
                rows: ordered(vms).map { row($0, now: now) }
            )
        return PageLayout.section(id: "vms", title: "VMs", note: note, content: content)
    }

    /// Overdue first; otherwise the order the repository gave (stable).
    static func ordered(_ vms: [VMInfo]) -> [VMInfo] {
        vms.filter(\.overdue) + vms.filter { !$0.overdue }
    }

    static func row(_ vm: VMInfo, now: Date) -> HTML {
        let tags = vm.tags.map { tag -> HTML in " <span class=\"tag\">\(tag)</span>" }.joined()
        let policy: HTML = vm.policy.map { name -> HTML in "\(name)" } ?? "<span class=\"muted\">none</span>"
        let point: HTML = vm.lastPointAt.map { date -> HTML in
            "<time datetime=\"\(APIJSON.formatDate(date))\">\(Format.time(date))</time>"
        } ?? "<span class=\"muted\">never</span>"
        let rowClass: HTML = vm.overdue ? " class=\"overdue\"" : .empty
        return """
        <tr\(rowClass) data-vm="\(vm.name)">
        <td>\(vm.hostName)</td><td>\(vm.name)\(tags)</td><td>\(policy)</td>
        <td>\(point)</td><td>\(age(vm, now: now))</td>\(DrillCell.render(vm))<td class="status">\(status(vm))</td>
        </tr>
        """
    }

    /// "3 h 5 min", and the most the policy allows ("of 1 d 2 h") when the agent said.
    private static func age(_ vm: VMInfo, now: Date) -> HTML {
        guard let seconds = vm.lastPointAgeSeconds ?? vm.lastPointAt.map({ now.timeIntervalSince($0) }) else {
            return "<span class=\"muted\">—</span>"
        }
        let limit: HTML = vm.maximumPointAgeSeconds.map { max -> HTML in
            " <span class=\"muted\">of \(Format.duration(max))</span>"
        } ?? .empty
        return "\(Format.duration(seconds))\(limit)"
    }

    private static func status(_ vm: VMInfo) -> String {
        if vm.overdue { return "overdue" }
        if vm.policy == nil { return "not backed up" }
        return vm.lastJobState ?? "ok"
    }
}
