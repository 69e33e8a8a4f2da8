import Foundation
import VBackupModel
import VBackupStore

/// A point's newest drill verdict, as `vbackup points` shows it (the store keeps every drill
/// of a point beside it; this is the one that says whether the point is known to boot).
struct LastDrill: Encodable {
    var drillID: String
    var host: String
    var recordedAt: Date
    /// passed or failed.
    var outcome: String
    var failure: String?
    var failedStep: String?
    /// Seconds to healthy (the measured RTO) when it passed.
    var rtoSeconds: Double?

    init(_ record: DrillRecord) {
        drillID = record.drillID
        host = record.host
        recordedAt = record.recordedAt
        outcome = record.result.outcome.rawValue
        failure = record.result.failure
        failedStep = record.result.failedStep
        rtoSeconds = record.result.timings.healthy
    }

    /// "passed 2025-06-15 04:12:09" or "FAILED 2025-06-15 04:12:09".
    var text: String {
        (outcome == DrillOutcome.passed.rawValue ? "passed " : "FAILED ") + Human.date(recordedAt)
    }

    /// Each point's newest drill, from one listing of the store. A store whose drill records
    /// cannot be read still lists its points: the drills are left out, with a warning.
    static func byPoint(_ store: Store) -> [String: LastDrill] {
        do {
            var newest: [String: LastDrill] = [:]
            for record in try store.allDrillRecords() {  // oldest first: the last one wins
                newest[record.result.pointID] = LastDrill(record)
            }
            return newest
        } catch {
            FileHandle.standardError.write(Data("vbackup: warning: drill records unreadable (\(error)); run vbackup verify\n".utf8))
            return [:]
        }
    }
}
