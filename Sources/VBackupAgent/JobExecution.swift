import BackupEngine
import Foundation
import LibvirtClient
import VBackupModel
import VBackupPolicy
import VBackupStore

/// Opens a store for a policy: the policy's own `store`, or the agent's default when nil.
/// Injected by the command line, which knows how to find keys and passphrases.
public typealias StoreOpener = @Sendable (_ location: String?) throws -> Store

/// Runs one job to its end on the calling thread: checks the store against the policy, takes
/// the backup through the engine (paced by the job's bandwidth share), then applies the
/// policy's retention to that VM.
struct JobExecution {
    var connection: LibvirtConnection
    var openStore: StoreOpener
    var policy: Policy?
    var workers: Int

    struct Outcome {
        var point: PointManifest
        var pruned: [String]
        var pruneError: String?
    }

    func run(_ job: RunningJob) throws -> Outcome {
        let record = job.record
        let store = try openStore(policy?.store)
        try checkEncryption(store)
        var options = BackupOptions()
        options.forceFull = record.fullBackup
        options.workers = workers
        options.progress = job
        options.readGate = job.bandwidth
        options.isCancelled = { job.isCancelled }
        options.immutableFor = policy?.immutableFor
        let point = try BackupRunner(connection: connection, store: store, options: options).backup(vm: record.vmUUID)
        guard let rules = policy?.retention, rules.keepsSomething else { return Outcome(point: point, pruned: []) }
        do {
            return Outcome(point: point, pruned: try prune(store, vmUUID: record.vmUUID, rules: rules), pruneError: nil)
        } catch {
            return Outcome(point: point, pruned: [], pruneError: "\(error)")
        }
    }

    private func checkEncryption(_ store: Store) throws {
        guard let policy else { return }
        switch policy.encryption {
        case .required where !store.isEncrypted:
            throw AgentError.invalidArgument("policy \(policy.name) requires an encrypted store; \(store.adapter.location) is not encrypted")
        case .unencrypted where store.isEncrypted:
            throw AgentError.invalidArgument("policy \(policy.name) says encryption: none, but \(store.adapter.location) is encrypted")
        default:
            return
        }
    }

    /// The policy's keep rules over this VM's points; protected points are never removed, nor
    /// immutable ones before their date.
    private func prune(_ store: Store, vmUUID: String, rules: RetentionRules) throws -> [String] {
        let points = try store.listPoints(vm: vmUUID)
        let protected = try store.protectedPointIDs()
        let candidates = points.map {
            RetentionCandidate(id: $0.id, createdAt: $0.createdAt, isProtected: protected.contains($0.id), immutableUntil: $0.immutableUntil)
        }
        let plan = try Retention.plan(candidates, rules: rules, timeZone: .current)
        var removed: [String] = []
        for entry in plan.removed {
            do {
                try store.deletePoint(id: entry.point.id)
                removed.append(entry.point.id)
            } catch is ImmutablePointError {
                continue  // the storage's clock is behind ours: a later prune removes it
            }
        }
        return removed
    }
}
