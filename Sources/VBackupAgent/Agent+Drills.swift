import FleetAPI
import Foundation
import LibvirtClient
import VBackupModel
import VBackupPolicy

/// Drill jobs: a policy's `drill:` calendar fired for a VM. The job ends `succeeded` when the
/// drill passed, `failed` (with the drill's reason) when it did not, `skipped` when the VM has
/// no point yet, `interrupted` (and queued again while its window is open) when the agent
/// stopped it; its end and, on an enrolled host, the verdict go to the journal and the outbox
/// in one transaction.
extension Agent {
    func executeDrill(_ job: RunningJob) {
        let record = job.record
        var drill: DrillResultReport?
        var tested: PointReport?
        var ended: JobRecord
        do {
            guard let policy = policies.policy(named: record.policy), policy.drill != nil else {
                throw AgentError.invalidArgument("policy \(record.policy) no longer has a drill section")
            }
            guard let connection = currentConnection else { throw AgentError.notRunning("not connected to libvirt") }
            let execution = DrillExecution(connection: connection, openStore: stores.store, policy: policy,
                                           host: libvirt.host, runDrill: config.runDrill)
            let vm = record.vmName, logger = logger
            switch try execution.run(job, log: { logger.debug("\($0)", metadata: ["vm": "\(vm)", "job": "\(record.id)"]) }) {
            case .skipped(let why):
                ended = job.update {
                    $0.state = .skipped
                    $0.error = why
                }
            case .drilled where job.cancellation != nil:
                throw AgentError.notRunning("the drill was stopped")  // its verdict is the stop's, not the guest's
            case .drilled(let point, let report, let result):
                ended = job.update {
                    $0.state = result.outcome == .passed ? .succeeded : .failed
                    $0.pointID = point.id
                    $0.error = result.outcome == .passed ? nil : "drill failed" + (result.failedStep.map { " (\($0))" } ?? "")
                        + ": " + (result.failure ?? "no reason given")
                }
                tested = pointReport(point, policy: policy)
                drill = link == nil ? nil : DrillResultReport(result, of: report, jobID: record.id)
            }
        } catch {
            ended = self.ended(job, by: error)
        }
        ended = finish(job, point: tested, drill: drill) {
            // A drill's window bounds its start; the runner's timeout bounds the rest.
            if let end = $0.windowEnd, let started = $0.startedAt, started > end { $0.overran = true }
        }
        logger.log(level: ended.state == .failed ? .error : .info, "drill \(ended.state.rawValue)",
                   metadata: ["job": "\(ended.id)", "vm": "\(ended.vmName)", "policy": "\(ended.policy)",
                              "point": "\(ended.pointID ?? "-")", "error": "\(ended.error ?? "-")"])
    }
}

extension DrillResultReport {
    /// One VM's verdict as the server hears of it; the times are the drill run's, which
    /// drilled this VM alone.
    public init(_ result: DrillVMResult, of report: DrillReport, jobID: String?) {
        self.init(
            drillID: report.id, jobID: jobID, vmUUID: result.vmUUID, vmName: result.vm, pointID: result.pointID,
            pointCreatedAt: result.pointCreatedAt, startedAt: report.startedAt,
            finishedAt: report.finishedAt, outcome: result.outcome.rawValue, failure: result.failure, failedStep: result.failedStep,
            diskMode: result.diskMode, runningSeconds: result.timings.running, rtoSeconds: result.timings.healthy,
            checks: result.checks.map { DrillCheckReport(kind: $0.kind.rawValue, status: $0.status.rawValue, detail: $0.detail) })
    }
}
