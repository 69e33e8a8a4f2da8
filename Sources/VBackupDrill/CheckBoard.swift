import Foundation
import VBackupModel

/// The four checks of one sandbox as they go: each is pending until it passes, fails or is
/// skipped; whatever is still pending when the drill ends is reported skipped, with the reason.
struct CheckBoard {
    static let order: [DrillCheckResult.Kind] = [.running, .guestAgent, .console, .script]

    private var results: [DrillCheckResult.Kind: DrillCheckResult] = [:]

    func isPending(_ kind: DrillCheckResult.Kind) -> Bool { results[kind] == nil }
    func status(_ kind: DrillCheckResult.Kind) -> DrillCheckResult.Status? { results[kind]?.status }

    mutating func pass(_ kind: DrillCheckResult.Kind, _ detail: String, at: Double?) {
        settle(kind, .passed, detail, at)
    }

    mutating func fail(_ kind: DrillCheckResult.Kind, _ detail: String, at: Double?) {
        settle(kind, .failed, detail, at)
    }

    mutating func skip(_ kind: DrillCheckResult.Kind, _ detail: String) {
        settle(kind, .skipped, detail, nil)
    }

    /// The first verdict stands: a check that passed can still fail later only through `overrule`.
    private mutating func settle(_ kind: DrillCheckResult.Kind, _ status: DrillCheckResult.Status, _ detail: String, _ at: Double?) {
        guard results[kind] == nil else { return }
        results[kind] = DrillCheckResult(kind: kind, status: status, detail: detail, at: at)
    }

    /// A check that had passed fails after all (a failure line on the console during settle).
    mutating func overrule(_ kind: DrillCheckResult.Kind, _ detail: String, at: Double?) {
        results[kind] = DrillCheckResult(kind: kind, status: .failed, detail: detail, at: at)
    }

    /// In report order; pending checks as skipped with `reason`.
    func final(pendingReason reason: String) -> [DrillCheckResult] {
        Self.order.map { results[$0] ?? DrillCheckResult(kind: $0, status: .skipped, detail: "not run: \(reason)", at: nil) }
    }
}

/// Seconds since a VM's drill started, on the monotonic clock.
struct Stopwatch {
    let start = ContinuousClock.now

    var seconds: Double { Self.seconds(ContinuousClock.now - start) }

    func instant(after seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int64(seconds * 1000)) }

    static func seconds(_ duration: Duration) -> Double {
        let (whole, atto) = duration.components
        return Double(whole) + Double(atto) / 1e18
    }

    /// Rounded to milliseconds, as the report shows them.
    static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
