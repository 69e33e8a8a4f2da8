import FleetAPI

/// One line of counts at the top, each a link to its section, so what needs attention
/// (hosts not ok, overdue VMs, failed jobs) is visible without scrolling; those links are
/// red when their count is not zero.
enum SummarySection {
    static func render(_ snapshot: DashboardSnapshot) -> HTML {
        let unhealthy = snapshot.hosts.filter { $0.health != .ok }.count
        let overdue = snapshot.vms.filter(\.overdue).count
        let links: [HTML] = [
            link("hosts", count(snapshot.hosts.count, "host") + (unhealthy > 0 ? ", \(unhealthy) not ok" : ""), alert: unhealthy > 0),
            link("vms", count(snapshot.vms.count, "VM") + (overdue > 0 ? ", \(overdue) overdue" : ""), alert: overdue > 0),
            link("failed-jobs", count(snapshot.failedJobs.count, "failed job"), alert: !snapshot.failedJobs.isEmpty),
            link("running-jobs", "\(snapshot.runningJobs.count) running", alert: false),
            link("store-usage", count(snapshot.storeUsage.count, "store"), alert: false),
            link("throughput", "Throughput", alert: false),
        ]
        return "<nav class=\"summary\">\(links.joined(separator: "\n"))</nav>"
    }

    /// "1 host", "3 hosts".
    static func count(_ n: Int, _ noun: String) -> String {
        "\(n) \(noun)\(n == 1 ? "" : "s")"
    }

    private static func link(_ id: String, _ text: String, alert: Bool) -> HTML {
        "<a href=\"#\(id)\"\(alert ? " class=\"alert\"" : .empty)>\(text)</a>"
    }
}
