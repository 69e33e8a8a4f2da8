import Foundation
import LibvirtClient
import VBackupModel
import VBackupStore

/// Takes one restore point of one VM: plans each disk (full or incremental), reads it through
/// the path the VM's state allows, and commits the point only when every disk is stored.
public struct BackupRunner {
    let connection: LibvirtConnection
    let store: Store
    let options: BackupOptions

    public init(connection: LibvirtConnection, store: Store, options: BackupOptions) {
        self.connection = connection
        self.store = store
        self.options = options
    }

    public func backup(vm: String) throws -> PointManifest {
        let domain = try Discovery(connection: connection).domain(vm)
        let uuid = domain.uuid
        let lock = try VMLock(vmUUID: uuid)
        defer { withExtendedLifetime(lock) {} }
        let started = Date()
        let state = try domain.runState()
        let liveXML = try domain.xml(inactive: false)
        let savedXML = try domain.isPersistent ? try domain.xml(inactive: true) : liveXML
        let description = try DomainDescription(xml: liveXML)
        guard !description.disks.isEmpty else { throw EngineError.noDisks(vm: domain.name) }
        let images = try description.disks.map { try ImageInfo.read(path: $0.sourcePath, format: $0.format) }
        // The session refreshes the catalog as it starts, so plan after it.
        let session = try store.beginSession(retainUntil: options.immutableFor.map { started.addingTimeInterval($0) })
        let plans: [DiskPlan]
        do {
            plans = DiskPlan.make(disks: description.disks, images: images, latest: try store.latestPoint(vmUUID: uuid),
                                  damaged: try store.damagedPointIDs(), forceFull: options.forceFull)
        } catch {
            session.abort()
            throw error
        }
        let pointID = Store.newPointID(at: started)
        let context = BackupContext(store: store, session: session, vmUUID: uuid, pointID: pointID, options: options)
        do {
            let outcome: BackupOutcome
            switch state {
            case .running, .paused:
                outcome = try OnlineBackup(domain: domain, context: context, plans: plans, isPaused: state == .paused).run()
            case .shutoff:
                outcome = try OfflineBackup(context: context, plans: plans).run()
            case .other(let code):
                throw EngineError.backupFailed(vm: domain.name, reason: "VM is in state \(code); it must be running, paused or shut off")
            }
            let nvramKey = try saveNVRAM(description.nvramPath, session: session, uuid: uuid, pointID: pointID)
            let manifest = PointManifest(
                id: pointID, vmName: domain.name, vmUUID: uuid, createdAt: started, finishedAt: Date(),
                consistency: outcome.consistency, consistencyNote: outcome.consistencyNote,
                host: (try? connection.hostname) ?? ProcessInfo.processInfo.hostName,
                domainXML: savedXML, nvramKey: nvramKey, nvramPath: description.nvramPath, disks: outcome.disks)
            let committed = try session.commit(manifest)
            outcome.afterCommit()
            if let until = committed.immutableUntil {
                let extended = session.retentionRequests
                options.progress.note("point is immutable until \(until.formatted(.iso8601)); "
                    + (extended == 0 ? "every pack it reuses was already retained long enough"
                        : "extended the retention of \(extended) reused packs (\(extended) retention requests)"))
            }
            return committed
        } catch {
            session.abort()
            if error is EngineError { throw error }
            throw EngineError.backupFailed(vm: domain.name, reason: "\(error)")
        }
    }

    private func saveNVRAM(_ path: String?, session: WriteSession, uuid: String, pointID: String) throws -> String? {
        guard let path, let data = FileManager.default.contents(atPath: path) else { return nil }
        return try session.putPointObject(data, vmUUID: uuid, pointID: pointID, name: "nvram")
    }
}
