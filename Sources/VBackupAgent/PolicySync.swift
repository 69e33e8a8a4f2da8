import FleetAPI
import FleetClient
import Foundation
import Logging

/// Keeps the policy cache in line with the policy server: polls every `interval` (± 10 %, so a
/// fleet restarted together does not poll in step) with `If-None-Match` set to the etag of the
/// bundle in hand, applies a new bundle to the cache and then calls `changed` (the agent
/// reloads its policies at once).
///
/// A failed poll changes nothing: the agent goes on with the cached policies, indefinitely,
/// and status shows the last successful contact and the error. Runs on its own thread; each
/// poll blocks that thread for at most the client's timeout.
final class PolicySync: @unchecked Sendable {
    struct Status: Equatable {
        var lastContact: Date?
        var lastError: String?
        var lastErrorAt: Date?
    }

    let cache: PolicyCache
    private let client: FleetClient
    private let interval: TimeInterval
    private let logger: Logger
    private let lock = NSLock()
    private var current = Status()
    private var cached: PolicyCache.State
    private let wake = Doorbell()

    init(client: FleetClient, cache: PolicyCache, interval: TimeInterval, logger: Logger) {
        self.client = client
        self.cache = cache
        self.interval = interval
        self.logger = logger
        cached = cache.state
    }

    var status: Status { lock.withLock { current } }

    /// The cache's etag, versions and refusals as of the last bundle applied (or the start).
    var cacheState: PolicyCache.State { lock.withLock { cached } }

    /// One line per error of the server's policies this agent refused.
    var refusals: [String] {
        let state = cacheState
        return state.refused.keys.sorted().flatMap { state.refused[$0] ?? [] }
    }

    /// Polls while `running` says so; `poke()` makes the next poll happen now.
    func run(while running: () -> Bool, changed: () -> Void) {
        while running() {
            poll(changed: changed)
            wake.wait(seconds: interval * Double.random(in: 0.9...1.1))
        }
    }

    func poke() { wake.ring() }

    /// One poll; returns what applying a new bundle did (nil: unchanged, or the poll failed).
    @discardableResult
    func poll(changed: () -> Void = {}) -> PolicyCache.Outcome? {
        let etag = cache.state.etag
        do {
            let answer = try FleetClient.blocking { [client] in try await client.policyBundle(ifNoneMatch: etag) }
            var outcome: PolicyCache.Outcome?
            if case .changed(let bundle) = answer {
                outcome = try cache.apply(bundle)
                let state = cache.state
                lock.withLock { cached = state }
                log(outcome!, etag: bundle.etag)
                if outcome!.changed { changed() }
            }
            succeeded()
            return outcome
        } catch {
            failed(error)
            return nil
        }
    }

    private func log(_ outcome: PolicyCache.Outcome, etag: String) {
        logger.info("policy bundle from the server applied", metadata: [
            "etag": "\(etag)", "written": "\(outcome.written)", "removed": "\(outcome.removed)",
            "refused": "\(outcome.refused.keys.sorted())"])
        for line in outcome.refused.keys.sorted().flatMap({ outcome.refused[$0] ?? [] }) {
            logger.error("policy from the server refused; its previous version (if any) stays in force: \(line)")
        }
    }

    private func succeeded() {
        let recovered = lock.withLock {
            defer { current.lastContact = Date(); current.lastError = nil; current.lastErrorAt = nil }
            return current.lastError != nil
        }
        if recovered { logger.notice("the policy server answers again") }
    }

    /// Logs a failure when it is new or different, not every poll of a long outage.
    private func failed(_ error: any Error) {
        let text = "\(error)"
        let isNew = lock.withLock {
            defer { current.lastError = text; current.lastErrorAt = Date() }
            return current.lastError != text
        }
        if isNew { logger.warning("cannot poll the policy server; the cached policies stay in force", metadata: ["error": "\(text)"]) }
    }
}
