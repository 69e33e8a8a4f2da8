import FleetAPI
import FleetClient
import Foundation
import Logging

/// Sends the outbox to the policy server: batches of at most 100 reports, oldest first; the ids
/// the receipt names (accepted, or duplicates the server already had) leave the outbox, all
/// others stay for the next try. A failed delivery waits 1 s, then twice as long each time, up to
/// 60 s; a queued report rings the doorbell and ends an idle wait (not a back-off).
///
/// A batch the server refuses as malformed (400, 413, 422) is retried one report at a time to
/// find the culprit, which is then dropped and logged: kept, it would block every report behind
/// it forever. Runs on its own thread.
final class ReportDelivery: @unchecked Sendable {
    struct Status: Equatable {
        var lastDelivery: Date?
        var lastError: String?
    }

    static let batchSize = 100
    static let firstBackoff: TimeInterval = 1
    static let maximumBackoff: TimeInterval = 60

    private let client: FleetClient
    private let journal: JobJournal
    private let doorbell: Doorbell
    private let logger: Logger
    private let idleWait: TimeInterval
    private let lock = NSLock()
    private var current = Status()

    init(client: FleetClient, journal: JobJournal, doorbell: Doorbell, logger: Logger, idleWait: TimeInterval = 30) {
        self.client = client
        self.journal = journal
        self.doorbell = doorbell
        self.logger = logger
        self.idleWait = idleWait
    }

    var status: Status { lock.withLock { current } }

    /// Delivers until `running` says no; `doorbell.ring()` wakes it to look again.
    func run(while running: () -> Bool) {
        var backoff = Self.firstBackoff
        var isolating = false
        while running() {
            switch deliverOnce(limit: isolating ? 1 : Self.batchSize) {
            case .empty:
                isolating = false
                doorbell.wait(seconds: idleWait)
            case .delivered:
                backoff = Self.firstBackoff
                isolating = false
            case .refusedBatch:
                isolating = true
            case .failed:
                let deadline = Date().addingTimeInterval(backoff)
                while running() && Date() < deadline { doorbell.wait(seconds: deadline.timeIntervalSinceNow) }
                backoff = min(backoff * 2, Self.maximumBackoff)
            }
        }
    }

    enum Result: Equatable {
        case empty, delivered, refusedBatch, failed
    }

    /// One batch: sends the oldest reports and acknowledges what the receipt names.
    func deliverOnce(limit: Int = batchSize) -> Result {
        let batch: [AgentReport]
        do {
            batch = try journal.outbox(limit: limit)
        } catch {
            record(error: "cannot read the outbox: \(error)")
            return .failed
        }
        guard !batch.isEmpty else { return .empty }
        let ids = batch.map(\.id)
        do {
            let receipt = try FleetClient.blocking { [client] in try await client.sendReports(ReportBatch(reports: batch)) }
            let acknowledged = Set(receipt.accepted + receipt.duplicates).intersection(ids)
            try journal.acknowledge(Array(acknowledged))
            guard !acknowledged.isEmpty else { throw FleetClientError.badResponse("the receipt names none of the \(ids.count) reports sent") }
            lock.withLock {
                if current.lastError != nil { logger.notice("reports reach the policy server again") }
                current = Status(lastDelivery: Date(), lastError: nil)
            }
            return .delivered
        } catch FleetClientError.http(let status, let message) where [400, 413, 422].contains(status) {
            guard batch.count == 1 else { return .refusedBatch }
            logger.error("the policy server refused a report; it is dropped",
                         metadata: ["report": "\(ids[0])", "kind": "\(batch[0].kind.rawValue)", "error": "\(message)"])
            try? journal.acknowledge(ids)
            return .delivered
        } catch {
            try? journal.recordAttempt(ids)
            record(error: "\(error)")
            return .failed
        }
    }

    private func record(error text: String) {
        let isNew = lock.withLock {
            defer { current.lastError = text }
            return current.lastError != text
        }
        if isNew { logger.warning("cannot deliver reports to the policy server; they stay queued", metadata: ["error": "\(text)"]) }
    }
}
