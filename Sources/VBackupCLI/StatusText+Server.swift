import Foundation
import VBackupAgent

extension StatusText {
    /// The agent's link to its policy server; empty for an agent that is not enrolled.
    func server() -> String {
        guard let server = status.server else { return "" }
        var lines = ["policy server: \(server.url) as \(server.hostName) (\(server.hostID))"]
        let contact = server.lastPoll.map { "last answered \(Human.date($0)) (\(Self.duration(now.timeIntervalSince($0))) ago)" } ?? "never answered"
        lines.append("  \(contact); bundle \(server.bundleEtag ?? "none yet")")
        if let error = server.lastError {
            lines.append("  ! unreachable since \(server.lastErrorAt.map(Human.date) ?? "?"): \(error) — the cached policies stay in force")
        }
        lines += server.refusedPolicies.map { "  ! refused: \($0)" }
        let age = server.oldestQueuedReportAge.map { ", oldest \(Self.duration($0)) old" } ?? ""
        lines.append("  reports queued: \(server.outboxLength)\(age)\(server.deliveryError.map { " — \($0)" } ?? "")")
        return lines.joined(separator: "\n")
    }
}
