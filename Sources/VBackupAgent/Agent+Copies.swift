import FleetAPI
import Foundation
import VBackupModel
import VBackupStore

/// Copy jobs: a policy's `copy:` calendar fired for a VM. The job ends `succeeded` when every
/// point of the VM is in the target, `failed` when a point was refused (damaged in the source)
/// or could not be copied, `skipped` when the VM has no point yet, `interrupted` (and queued
/// again while its window is open) when the agent stopped it: the next run resumes where it
/// stopped. Its end goes to the journal and the outbox like any job's.
extension Agent {
    func executeCopy(_ job: RunningJob) {
        let record = job.record
        var ended: JobRecord
        var copied: PointReport?
        do {
            guard let policy = policies.policy(named: record.policy) else {
                throw AgentError.invalidArgument("policy \(record.policy) is gone")
            }
            let openTarget = config.openCopyTarget ?? { [open = config.openStore] copy in try open(copy.target) }
            let execution = CopyExecution(openStore: stores.store, openTarget: openTarget, policy: policy)
            switch try execution.run(job) {
            case .skipped(let why):
                ended = job.update {
                    $0.state = .skipped
                    $0.error = why
                }
            case .copied(let report, _, _) where report.interrupted:
                throw AgentError.notRunning("the copy was stopped after \(report.copied.count) points")
            case .copied(let report, let newest, let waited):
                ended = job.update {
                    $0.state = report.ok ? .succeeded : .failed
                    $0.pointID = newest?.id
                    $0.bytesRead = Int64(report.bytesRead)
                    $0.bytesStored = Int64(report.bytesSent)
                    $0.throttledSeconds = waited
                    $0.error = report.ok ? nil : Self.incomplete(report)
                }
                copied = newest.flatMap { targetPointReport($0, target: policy.copy?.target) }
                logger.info("copy finished", metadata: [
                    "vm": "\(record.vmName)", "copied": "\(report.copied.count)", "alreadyThere": "\(report.alreadyThere.count)",
                    "chunksSent": "\(report.chunksSent)", "bytesSent": "\(report.bytesSent)", "to": "\(report.to)"])
            }
        } catch {
            ended = self.ended(job, by: error)
        }
        ended = finish(job, point: copied) {
            if let end = $0.windowEnd, let finished = $0.finishedAt, finished > end { $0.overran = true }
        }
        logger.log(level: ended.state == .failed ? .error : .info, "copy \(ended.state.rawValue)",
                   metadata: ["job": "\(ended.id)", "vm": "\(ended.vmName)", "policy": "\(ended.policy)",
                              "point": "\(ended.pointID ?? "-")", "error": "\(ended.error ?? "-")"])
    }

    /// The VM's newest point in the copy target, as the server hears of it (enrolled hosts).
    private func targetPointReport(_ point: PointManifest, target: String?) -> PointReport? {
        guard link != nil, let target else { return nil }
        return PointReport(id: point.id, store: target, createdAt: point.createdAt,
                           kind: point.disks.contains { $0.mode == .full } ? "full" : "incremental",
                           logicalBytes: Int64(point.logicalSize), storedBytes: Int64(point.bytesStored))
    }

    /// Why a finished copy left points out, in one line.
    static func incomplete(_ report: CopyReport) -> String {
        let refused = report.refused.map { "\($0.id) refused: \($0.reason)" }
        let failed = report.failed.map { "\($0.id) failed: \($0.reason)" }
        return (refused + failed).joined(separator: "; ")
    }
}
