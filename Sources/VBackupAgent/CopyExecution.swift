import Foundation
import ResourceControl
import VBackupModel
import VBackupPolicy
import VBackupStore

/// Opens a policy's copy target with the keys its `copy:` section names; the CLI provides it
/// (it knows store URLs and passphrase files). Tests may leave it nil: the agent's own opener
/// then opens `copy.target` with the keys of its other stores.
public typealias CopyTargetOpener = @Sendable (_ copy: CopyPolicy) throws -> Store

/// Runs one copy job to its end on the calling thread: every point of the job's VM in the
/// policy's store that the copy target lacks, as `vbackup copy --vm` does, within the copy's
/// own bandwidth cap (a budget apart from the host's read budget: it limits what is written
/// to the target). A VM without a point has nothing to copy: the job is skipped.
struct CopyExecution {
    var openStore: StoreOpener
    var openTarget: CopyTargetOpener
    var policy: Policy

    enum Outcome {
        /// The VM has no point in the policy's store (the text says which store).
        case skipped(String)
        /// What the copier did, the VM's newest point now in the target, and the seconds the
        /// copy waited on its bandwidth cap.
        case copied(CopyReport, newest: PointManifest?, throttledSeconds: Double)
    }

    func run(_ job: RunningJob) throws -> Outcome {
        guard let copy = policy.copy else {
            throw AgentError.invalidArgument("policy \(policy.name) no longer has a copy section")
        }
        let source = try openStore(policy.store)
        let points = try source.listPoints(vm: job.record.vmUUID)
        guard !points.isEmpty else {
            return .skipped("no point of this VM in \(source.adapter.location) to copy: back it up first")
        }
        let target = try openTarget(copy)
        let governor = BandwidthGovernor(hostLimit: nil)
        let budget = governor.register(name: job.record.id, limit: copy.bandwidth.limit)
        defer { budget.finish() }
        var options = CopyOptions()
        options.throttle = { bytes in _ = budget.admit(bytes, isCancelled: { job.isCancelled }) }
        options.isCancelled = { job.isCancelled }
        options.immutableFor = copy.immutableFor
        let chunkSize = UInt64(source.config.chunkSize)
        options.progress = { event in
            switch event {
            case .diskStarted(let disk, let chunks): job.diskStarted(disk, total: UInt64(chunks) * chunkSize)
            case .chunksDone(let chunks): job.advanced(UInt64(chunks) * chunkSize)
            default: break
            }
        }
        let report = try PointCopier(from: source, to: target, options: options).copy(points)
        let waited = governor.snapshot().jobs.first { $0.name == job.record.id }?.secondsWaited ?? 0
        let inTarget = Set((report.copied + report.alreadyThere).map(\.id))
        return .copied(report, newest: points.last { inTarget.contains($0.id) }, throttledSeconds: waited)
    }
}
