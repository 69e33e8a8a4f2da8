import Foundation
import LibvirtClient
import VBackupModel
import VBackupStore

/// Restores a point's disks (and optionally the domain) from the store alone. Every image is
/// written under a temporary name and renamed into place only when all disks are complete, so a
/// failed or interrupted restore leaves nothing half-written behind.
public struct RestoreRunner {
    let store: Store
    let connection: LibvirtConnection?
    let options: RestoreOptions

    public init(store: Store, connection: LibvirtConnection?, options: RestoreOptions) {
        self.store = store
        self.connection = connection
        self.options = options
    }

    public func restore(vm: String) throws -> RestoreResult {
        let point = try PointSelector(store: store).select(vm: vm, id: options.pointID, at: options.at)
        let name = options.newName ?? (options.define ? "\(point.vmName)-restored" : point.vmName)
        let layout = RestoreLayout(point: point, name: name, directory: options.directory, format: options.format)
        try preflight(layout, name: name)
        try checkChunks(of: point)
        try FileManager.default.createDirectory(at: options.directory, withIntermediateDirectories: true)
        var written: [String] = []
        do {
            var disks: [RestoreResult.Disk] = []
            var damaged: [DamagedRange] = []
            for disk in point.disks {
                let path = layout.path(for: disk)
                let (restored, lost) = try restoreDisk(disk, point: point.id, to: layout.temporary(path), final: path, format: layout.format(for: disk))
                disks.append(restored)
                damaged += lost
                written.append(layout.temporary(path))
            }
            let nvram = try restoreNVRAM(point, layout)
            if let nvram { written.append(layout.temporary(nvram)) }
            for path in written { try Self.move(path, to: layout.final(path), overwrite: options.overwrite) }
            written = []
            let defined = try define(point, layout: layout, name: name, nvram: nvram)
            return RestoreResult(pointID: point.id, vmName: point.vmName, pointCreatedAt: point.createdAt, disks: disks,
                                 nvramPath: nvram, definedAs: defined?.name, started: defined != nil && options.start,
                                 damaged: damaged)
        } catch {
            for path in written { try? FileManager.default.removeItem(atPath: path) }
            throw error
        }
    }

    /// Refuses before writing anything: existing files, a taken domain name, a missing connection.
    private func preflight(_ layout: RestoreLayout, name: String) throws {
        if !options.overwrite {
            for path in layout.allPaths where FileManager.default.fileExists(atPath: path) {
                throw EngineError.restoreTargetExists(path)
            }
        }
        guard options.define || options.start else { return }
        guard let connection else { throw EngineError.invalidArgument("--define needs a libvirt connection") }
        if (try? connection.lookupDomain(name)) != nil {
            throw EngineError.invalidArgument("a domain named '\(name)' already exists (choose another with --as)")
        }
    }

    /// Refuses a point whose chunks the store cannot offer (lost, or moved aside by verify)
    /// before anything is written, naming the ranges; `allowDamaged` restores it anyway.
    private func checkChunks(of point: PointManifest) throws {
        guard !options.allowDamaged else { return }
        var lost: [DamagedRange] = []
        for disk in point.disks {
            let index = try store.readDiskIndex(disk)
            var seen: Set<ChunkID> = []
            for (position, id) in index.chunks.enumerated() where !id.isZero && seen.insert(id).inserted {
                guard try !store.hasChunk(id) else { continue }
                let offset = UInt64(position) * UInt64(index.chunkSize)
                lost.append(DamagedRange(disk: disk.target, offset: offset, length: min(UInt64(index.chunkSize), index.virtualSize - offset),
                                         chunk: id.hex, reason: "chunk \(id) is not in the store"))
            }
        }
        if !lost.isEmpty { throw EngineError.damagedPoint(point: point.id, ranges: lost) }
    }

    private func restoreDisk(
        _ disk: PointDisk, point: String, to temporary: String, final: String, format: String
    ) throws -> (RestoreResult.Disk, [DamagedRange]) {
        let index = try store.readDiskIndex(disk)
        try? FileManager.default.removeItem(atPath: temporary)
        let target: RestoreTarget = format == "raw"
            ? try RawFileTarget(path: temporary, size: index.virtualSize)
            : try Qcow2Target(path: temporary, size: index.virtualSize, socketPath: RuntimeDirectory.socketPath("restore-\(disk.target)"),
                                 connections: options.workers)
        options.progress.diskStarted(disk.target, total: index.virtualSize)
        let bytes: UInt64, damaged: [DamagedRange]
        do {
            (bytes, damaged) = try DiskRestore(
                store: store, index: index, target: disk.target, allowDamaged: options.allowDamaged, workers: options.workers,
                progress: options.progress, isCancelled: options.isCancelled, pointID: point
            ).run(into: target)
            try target.finish()
        } catch {
            target.discard()
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        options.progress.diskFinished(disk.target)
        return (RestoreResult.Disk(target: disk.target, path: final, format: format, virtualSize: index.virtualSize, bytesWritten: bytes),
                damaged)
    }

    private func restoreNVRAM(_ point: PointManifest, _ layout: RestoreLayout) throws -> String? {
        guard let key = point.nvramKey, let path = layout.nvramPath else { return nil }
        let data = try store.readPointObject(key: key)
        try data.write(to: URL(fileURLWithPath: layout.temporary(path)))
        return path
    }

    private func define(_ point: PointManifest, layout: RestoreLayout, name: String, nvram: String?) throws -> LibvirtDomain? {
        guard options.define || options.start, let connection else { return nil }
        let rewriter = DomainXMLRewriter(
            newName: name,
            disks: Dictionary(uniqueKeysWithValues: point.disks.map { ($0.target, (layout.path(for: $0), layout.format(for: $0))) }),
            directory: options.directory, nvramPath: nvram)
        let domain = try connection.defineDomain(xml: try rewriter.rewrite(point.domainXML))
        if options.start { try domain.start() }
        return domain
    }

    private static func move(_ from: String, to: String, overwrite: Bool) throws {
        if overwrite { try? FileManager.default.removeItem(atPath: to) }
        guard rename(from, to) == 0 else {
            throw EngineError.invalidArgument("cannot move \(from) to \(to): \(String(cString: strerror(errno)))")
        }
    }
}
