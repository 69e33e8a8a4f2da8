import FleetAPI
import FleetClient
import Foundation
import Logging
import VBackupPolicy

/// An enrolled agent's link to its policy server (present only while `server.json` exists):
/// the policy sync and the report delivery, each on its own thread so a slow or absent server
/// never holds up the tick, plus the bookkeeping of the tick's inventory reports.
///
/// The agent runs on the cached policies whatever the server does; the link only ever adds
/// to the cache what this build validated, and reports wait in the journal's outbox until the
/// server acknowledges them.
final class ServerLink: @unchecked Sendable {
    static let cacheFolder = "server-policies"

    let enrollment: ServerEnrollment
    let sync: PolicySync
    let delivery: ReportDelivery
    /// The tick thread's alone.
    var inventory: InventoryReporter
    private var pointAges: [String: (policy: Policy, seconds: TimeInterval?)] = [:]
    private let reportQueued: Doorbell
    private let lock = NSLock()
    private var running = false
    private let threads = DispatchGroup()

    /// The policy folder of an enrolled agent.
    static func cacheDirectory(stateDirectory: URL) -> URL {
        stateDirectory.appendingPathComponent(cacheFolder)
    }

    init(enrollment: ServerEnrollment, config: AgentConfiguration, journal: JobJournal, reportQueued: Doorbell) throws {
        self.enrollment = enrollment
        self.reportQueued = reportQueued
        let client = try enrollment.client(timeout: .seconds(Int64(config.serverTimeout)))
        let cache = try PolicyCache(directory: Self.cacheDirectory(stateDirectory: config.stateDirectory))
        sync = PolicySync(client: client, cache: cache, interval: config.policyPollInterval, logger: config.logger)
        delivery = ReportDelivery(client: client, journal: journal, doorbell: reportQueued, logger: config.logger)
        inventory = InventoryReporter(interval: config.inventoryInterval)
    }

    var cacheDirectory: URL { sync.cache.directory }

    /// Asks the server for the policies now instead of at the next interval.
    func pollNow() { sync.poke() }

    /// Starts both loops; `policiesChanged` runs (on the sync thread) after a new bundle
    /// changed the cached files.
    func start(policiesChanged: @escaping @Sendable () -> Void) {
        lock.withLock { running = true }
        let loops: [@Sendable () -> Void] = [
            { [self] in sync.run(while: { self.isRunning }, changed: policiesChanged) },
            { [self] in delivery.run(while: { self.isRunning }) },
        ]
        for body in loops {
            threads.enter()
            Thread.detachNewThread { [threads] in
                body()
                threads.leave()
            }
        }
    }

    /// Ends both loops; waits for a call in flight up to `timeout` (its result is then dropped).
    func stop(timeout: TimeInterval) {
        lock.withLock { running = false }
        sync.poke()
        reportQueued.ring()
        _ = threads.wait(timeout: .now() + timeout)
    }

    private var isRunning: Bool { lock.withLock { running } }

    /// `Policy.maximumPointAge`, computed once per version of a policy (it takes up to a few
    /// thousand calendar steps). Tick thread only.
    func maximumPointAge(of policy: Policy, now: Date) -> TimeInterval? {
        if let cached = pointAges[policy.name], cached.policy == policy { return cached.seconds }
        let seconds = policy.maximumPointAge(from: now)
        pointAges[policy.name] = (policy, seconds)
        return seconds
    }
}
