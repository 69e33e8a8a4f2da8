import FleetAPI
import Foundation

/// Decides when the host's inventory goes to the policy server: at start, whenever what it
/// says changes (VMs, their tags, states and disks, the policy that selects each, refused
/// policies, policy versions), and every `interval` (an hour) as a sign of life with fresh
/// disk sizes. Consulted every tick with a report built cheaply (no disk sizes); the caller
/// completes only the reports it is told to send.
struct InventoryReporter {
    let interval: TimeInterval
    private var lastSent: InventoryReport?
    private var lastSentAt: Date?

    init(interval: TimeInterval = 3_600) {
        self.interval = interval
    }

    /// Whether `report` (sizes left out) must be sent now; if so it counts as sent.
    mutating func isDue(_ report: InventoryReport, now: Date) -> Bool {
        let hourly = lastSentAt.map { now.timeIntervalSince($0) >= interval || now < $0 } ?? true
        guard hourly || report != lastSent else { return false }
        lastSent = report
        lastSentAt = now
        return true
    }
}
