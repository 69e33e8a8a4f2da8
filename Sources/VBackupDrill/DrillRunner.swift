import Foundation
import LibvirtClient
import VBackupModel
import VBackupStore

/// Runs a disaster-recovery drill: each selected VM's point restored into a sandbox on this
/// host, one VM at a time, booted, checked and torn down (see `SandboxDomain` for what the
/// sandbox can and cannot reach, `SandboxRun` for the steps and checks).
///
/// Before it starts, it removes sandboxes that drills which died left behind (`StaleSandboxes`).
public struct DrillRunner {
    let store: Store
    let connection: LibvirtConnection
    let host: String
    let options: DrillOptions

    public init(store: Store, connection: LibvirtConnection, host: String, options: DrillOptions) {
        self.store = store
        self.connection = connection
        self.host = host
        self.options = options
    }

    /// Throws only for what stops the drill before anything is made (no VM matches, unknown
    /// point, --point with several VMs, a scratch folder it cannot make); every per-VM failure is
    /// in the report. Records each VM's verdict in the store when options.recordInStore.
    public func run() throws -> DrillReport {
        let startedAt = Date()
        let identity = DrillIdentity(startedAt: startedAt)
        let patterns = try ConsolePatterns(success: options.consolePattern, failures: options.consoleFailurePatterns)
        let points = try DrillSelection.points(in: store, options: options)
        for line in StaleSandboxes(connection: connection, host: host, scratchParent: options.scratchParent).sweep() {
            options.log(line)
        }
        let folder = identity.scratchFolder(parent: options.scratchParent)
        let owner = ProcessIdentity.current
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            if !options.keep { try StaleSandboxes.claim(folder, by: owner) }
        } catch {
            throw DrillError.scratchFolder(path: folder.path, reason: error.localizedDescription)
        }
        options.log("drill \(identity.id): \(points.count) VM\(points.count == 1 ? "" : "s"), scratch folder \(folder.path)")
        let context = SandboxRun.Context(store: store, connection: connection, host: host, options: options, identity: identity,
                                         owner: owner, folder: folder)
        var results: [DrillVMResult] = []
        for (index, point) in points.enumerated() {
            if options.isCancelled() { break }
            var result = SandboxRun(context: context, point: point, index: index, patterns: patterns).run()
            if options.recordInStore && !options.isCancelled() {
                do {
                    try store.recordDrill(DrillRecord(drillID: identity.id, host: host, recordedAt: Date(), result: result))
                } catch {
                    result.storeErrors.append("the verdict could not be recorded in the store: \(error)")
                }
            }
            results.append(result)
        }
        if !options.keep { try? FileManager.default.removeItem(at: folder) }
        return DrillReport(id: identity.id, host: host, startedAt: startedAt, finishedAt: Date(), vms: results)
    }
}
