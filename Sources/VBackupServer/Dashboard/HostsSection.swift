import FleetAPI
import Foundation

/// `#hosts`: each enrolled host with its health and, when not ok, the reasons the server gave
/// (so an admin sees why without opening anything), the agent version, the last contact and
/// how many VMs it reported.
enum HostsSection {
    static func render(_ hosts: [HostInfo], now: Date) -> HTML {
        let content = hosts.isEmpty
            ? PageLayout.emptyState("No hosts enrolled")
            : PageLayout.table(
                headers: ["Host", "Groups", "Health", "Agent", "Last contact", "VMs"], numeric: [5],
                rows: hosts.map { row($0, now: now) }
            )
        return PageLayout.section(id: "hosts", title: "Hosts", content: content)
    }

    static func row(_ host: HostInfo, now: Date) -> HTML {
        let groups = host.groups.map { group -> HTML in "<span class=\"tag\">\(group)</span>" }.joined()
        let problems: HTML = host.problems.isEmpty ? .empty : """
            <ul class="problems">\(host.problems.map { problem -> HTML in "<li>\(problem)</li>" })</ul>
            """
        return """
        <tr data-host="\(host.name)">
        <td>\(host.name)</td><td>\(groups)</td>
        <td><span class="badge health-\(host.health.rawValue)">\(host.health.rawValue)</span>\(problems)</td>
        <td>\(host.agentVersion)</td><td>\(PageLayout.age(host.lastContact, now: now))</td>
        <td class="num">\(host.vmCount)</td>
        </tr>
        """
    }
}
