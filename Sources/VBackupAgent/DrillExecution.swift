import BackupEngine
import Foundation
import LibvirtClient
import VBackupDrill
import VBackupModel
import VBackupPolicy
import VBackupStore

/// Runs a drill: VBackupDrill's `DrillRunner` in production, a stand-in in tests that need no
/// booting guest. Same arguments as `DrillRunner.init`; `run()` records each verdict in the store.
public typealias DrillRun = @Sendable (_ store: Store, _ connection: LibvirtConnection, _ host: String,
                                       _ options: DrillOptions) throws -> DrillReport

/// Runs one drill job to its end on the calling thread: finds the VM's newest point in the
/// policy's store and hands it to the drill runner with the policy's checks. A VM without a
/// point has nothing to drill: the job is skipped, and says where it looked.
struct DrillExecution {
    var connection: LibvirtConnection
    var openStore: StoreOpener
    var policy: Policy
    var host: String
    var runDrill: DrillRun

    enum Outcome {
        /// The VM has no point in the store (the text says which store).
        case skipped(String)
        /// The runner's verdict on this VM's point (the only VM of `report`).
        case drilled(point: PointManifest, report: DrillReport, result: DrillVMResult)
    }

    func run(_ job: RunningJob, log: @escaping @Sendable (String) -> Void) throws -> Outcome {
        let record = job.record
        let store = try openStore(policy.store)
        guard let point = try store.latestPoint(vmUUID: record.vmUUID) else {
            return .skipped("no point of this VM in \(store.adapter.location) to drill: back it up first")
        }
        let report = try runDrill(store, connection, host, options(point: point, job: job, log: log))
        guard let result = report.vms.first(where: { $0.pointID == point.id }) else {
            throw AgentError.notRunning("the drill \(report.id) returned no verdict on point \(point.id)")
        }
        return .drilled(point: point, report: report, result: result)
    }

    /// The policy's `drill:` section as the runner's options, for this one point.
    func options(point: PointManifest, job: RunningJob, log: @escaping @Sendable (String) -> Void) -> DrillOptions {
        var options = DrillOptions()
        options.vmPatterns = [point.vmUUID]
        options.pointID = point.id
        if let drill = policy.drill {
            options.timeout = drill.timeout
            options.settle = drill.settle
            options.network = drill.network == .isolated ? .isolated : .none
            options.consolePattern = drill.consolePattern
            options.checkScript = drill.script
        }
        options.recordInStore = true
        options.isCancelled = { job.isCancelled }
        options.log = log
        return options
    }
}

extension AgentConfiguration {
    /// The production drill: VBackupDrill's runner.
    public static let drillRunner: DrillRun = { store, connection, host, options in
        try DrillRunner(store: store, connection: connection, host: host, options: options).run()
    }
}
