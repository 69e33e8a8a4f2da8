import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import LibvirtClient
import VBackupModel
import VBackupStore

/// Brings a VM back from a point without waiting for its disks to be copied: the point is
/// served read-only over NBD, each disk becomes an empty qcow2 overlay over its export, and the
/// domain (defined from the point's XML under a new name) starts on those overlays at once.
/// `start` returns as soon as it runs; the returned session then pulls every byte into the
/// overlays and ends the export. Nothing is copied before the domain runs, so the time to
/// running does not grow with the disks.
public struct InstantRestore {
    let store: Store
    let connection: LibvirtConnection
    let options: InstantRestoreOptions

    public init(store: Store, connection: LibvirtConnection, options: InstantRestoreOptions) {
        self.store = store
        self.connection = connection
        self.options = options
    }

    /// Everything up to a running domain. Refuses before making anything (unknown point,
    /// taken name, existing files, a point verify marked damaged); a failure or cancellation
    /// after that removes all it made (overlays, NVRAM copy, definition, export and its
    /// socket) before throwing.
    public func start(vm: String) throws -> InstantRestoreSession {
        let point = try PointSelector(store: store).select(vm: vm, id: options.pointID, at: options.at)
        let name = options.newName ?? "\(point.vmName)-restored"
        let layout = RestoreLayout(point: point, name: name, directory: options.directory, format: .qcow2)
        try preflight(layout, name: name)
        try refuseMarkedDamage(point)

        let made = InstantWorkspace()
        do {
            if !FileManager.default.fileExists(atPath: options.directory.path) {
                try FileManager.default.createDirectory(at: options.directory, withIntermediateDirectories: true)
                made.createdDirectory = options.directory
            }
            let folder = try ExportFolder.create()
            made.folder = folder
            try checkCancelled()
            let export = try options.exporter.start(store: store, point: point, socketPath: folder.socketPath)
            made.export = export
            let disks = try createOverlays(point, layout: layout, export: export, made: made)
            let nvram = try copyNVRAM(point, layout)
            if let nvram { made.files.append(nvram) }
            try checkCancelled()
            let xml = try domainXML(point, layout: layout, name: name, nvram: nvram)
            // Logs already there (an earlier restore's) are not ours to delete.
            made.files += try Self.consoleFiles(in: xml, under: options.directory).filter { !FileManager.default.fileExists(atPath: $0) }
            let domain = try connection.defineDomain(xml: xml)
            made.domain = domain
            try checkCancelled()
            try domain.start()
            return InstantRestoreSession(point: point, domain: domain, disks: disks, workspace: made, options: options,
                                         runningAfter: Date().timeIntervalSince(options.startedAt))
        } catch {
            made.discard()
            throw error
        }
    }

    private func preflight(_ layout: RestoreLayout, name: String) throws {
        for path in layout.allPaths where FileManager.default.fileExists(atPath: path) {
            throw EngineError.invalidArgument("\(path) already exists (instant restore never replaces files; choose another --as or --to)")
        }
        if (try? connection.lookupDomain(name)) != nil {
            throw EngineError.invalidArgument("a domain named '\(name)' already exists (choose another with --as)")
        }
    }

    /// A point verify marked damaged is refused, naming its lost ranges. Chunks are not looked
    /// up one by one as a full restore does: that grows with the disk (a 1 TiB disk has four
    /// million), and the time to running must not. A chunk lost or rotten since the last verify
    /// is a read error of the export instead, named when the guest or the pull meets it.
    private func refuseMarkedDamage(_ point: PointManifest) throws {
        guard let damage = try store.damage(of: point.id) else { return }
        let ranges = damage.chunks.flatMap { chunk in
            chunk.ranges.map { DamagedRange(disk: chunk.disk, offset: $0.offset, length: $0.length, chunk: chunk.id, reason: chunk.reason) }
        }
        throw EngineError.damagedPoint(point: point.id, ranges: ranges)
    }

    /// One empty overlay per disk over its export, in `made` before it is created (the
    /// preflight made sure no such file existed, so whatever is there is ours).
    private func createOverlays(_ point: PointManifest, layout: RestoreLayout, export: any InstantExport,
                                made: InstantWorkspace) throws -> [InstantRestoreSession.Disk] {
        try point.disks.map { disk in
            let path = layout.path(for: disk)
            made.files.append(path)
            try InstantOverlay.create(at: path, backing: export.uri(for: disk.target), size: disk.virtualSize)
            return InstantRestoreSession.Disk(target: disk.target, path: path, virtualSize: disk.virtualSize)
        }
    }

    private func checkCancelled() throws {
        if options.isCancelled() { throw EngineError.cancelled }
    }

    /// The NVRAM file is small: it is copied, not served.
    private func copyNVRAM(_ point: PointManifest, _ layout: RestoreLayout) throws -> String? {
        guard let key = point.nvramKey, let path = layout.nvramPath else { return nil }
        try store.readPointObject(key: key).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func domainXML(_ point: PointManifest, layout: RestoreLayout, name: String, nvram: String?) throws -> String {
        let rewriter = DomainXMLRewriter(
            newName: name,
            disks: Dictionary(uniqueKeysWithValues: point.disks.map { ($0.target, (layout.path(for: $0), "qcow2")) }),
            directory: options.directory, nvramPath: nvram)
        return try rewriter.rewrite(point.domainXML)
    }

    /// The console and serial log files the rewritten XML moved into the restore folder (QEMU
    /// or virtlogd creates them at start): they belong to the restore, and go with a discard.
    static func consoleFiles(in xml: String, under directory: URL) throws -> [String] {
        let doc = try XMLParsing.document(xml)
        let nodes = try doc.nodes(forXPath: "/domain/devices/*[self::serial or self::console]/*[self::log or self::source]/@*[name()='file' or name()='path']")
        let prefix = directory.path + "/"
        return Array(Set(nodes.compactMap(\.stringValue).filter { $0.hasPrefix(prefix) })).sorted()
    }
}

/// Everything an instant restore made, so that a failure, or the operator, can take it all
/// back: the domain (destroyed, undefined), the files (overlays, NVRAM, console logs) and the
/// `--to` folder if it made it, the export and its socket folder.
final class InstantWorkspace: @unchecked Sendable {
    var folder: ExportFolder?
    var export: (any InstantExport)?
    var files: [String] = []
    var createdDirectory: URL?
    var domain: LibvirtDomain?

    /// Removes it all, domain first (QEMU holds the overlays and the export); returns the files
    /// it deleted, for the message that says so.
    @discardableResult
    func discard() -> [String] {
        if let domain {
            if (try? domain.isActive) == true { try? domain.destroy() }
            try? domain.undefine(checkpointsMetadata: true, nvram: false)
        }
        domain = nil
        var removed: [String] = []
        for path in files where (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(path) }
        files = []
        if let createdDirectory { rmdir(createdDirectory.path) }   // only if empty: never someone else's file
        endExport()
        return removed
    }

    /// Stops the export and removes its socket folder.
    func endExport() {
        export?.stop()
        export = nil
        folder?.remove()
        folder = nil
    }
}
