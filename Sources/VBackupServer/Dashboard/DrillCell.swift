import FleetAPI
import Foundation

/// The VM table's drill cell: when the VM last passed a drill (and that drill's RTO), or
/// "never"; when its last drill failed, the cell has class `drill-failed` and says so first,
/// with the reason, because a backup that does not boot is what the drill is there to catch.
enum DrillCell {
    static func render(_ vm: VMInfo) -> HTML {
        let passed: HTML = vm.lastPassedDrillAt.map { date -> HTML in
            let rto: HTML = vm.lastDrill.flatMap { drill -> HTML? in
                guard drill.outcome == "passed", drill.at == date, let seconds = drill.rtoSeconds else { return nil }
                return " <span class=\"muted\">RTO \(Format.duration(seconds))</span>"
            } ?? .empty
            return "<time datetime=\"\(APIJSON.formatDate(date))\">\(Format.time(date))</time>\(rto)"
        } ?? "<span class=\"muted\">never</span>"
        guard let drill = vm.lastDrill, drill.outcome == "failed" else { return "<td class=\"drill\">\(passed)</td>" }
        return """
        <td class="drill drill-failed"><span class="badge">last drill failed</span> \
        <time datetime="\(APIJSON.formatDate(drill.at))">\(Format.time(drill.at))</time>: \
        <span class="reason">\(drill.failure ?? "no reason given")</span><br>passed: \(passed)</td>
        """
    }
}
