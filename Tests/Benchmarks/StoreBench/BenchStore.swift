import Foundation
import LocalStorage
import VBackupModel
import VBackupStore

/// Opening the store the way the CLI does (`--store`, catalog cache from `--cache` or
/// `$VBACKUP_CACHE`), and committing one-disk points the way the backup engine does.
enum BenchStore {
    static func cacheDirectory(_ arguments: Arguments) throws -> URL {
        let environment = ProcessInfo.processInfo.environment["VBACKUP_CACHE"]
        guard let path = arguments.string("cache", default: environment ?? "").nilIfEmpty else {
            throw BenchError("set --cache DIR or VBACKUP_CACHE (use the same cache for vbackup)")
        }
        return URL(fileURLWithPath: path)
    }

    /// Creates the store with this geometry, or opens it when it exists.
    static func openOrCreate(_ arguments: Arguments, chunkSize: Int, packSize: Int, mustBeNew: Bool = false) throws -> Store {
        let root = URL(fileURLWithPath: try arguments.string("store"))
        let adapter = try LocalStorageAdapter(root: root, create: true)
        let cache = try cacheDirectory(arguments)
        if try adapter.stat("config.json") == nil {
            return try Store.create(adapter: adapter, cacheDirectory: cache, chunkSize: chunkSize, packSize: packSize)
        }
        if mustBeNew { throw BenchError("\(root.path) already holds a store; give a new directory") }
        return try Store.open(adapter: adapter, cacheDirectory: cache)
    }

    /// The VM's UUID: that of its existing points, or a new one.
    static func vmUUID(named name: String, in store: Store) throws -> String {
        try store.listPoints(vm: name).last?.vmUUID ?? UUID().uuidString.lowercased()
    }

    /// Writes the disk index and commits the manifest: the last two steps of a backup.
    static func commit(
        _ session: WriteSession, store: Store, vm: (name: String, uuid: String), createdAt: Date,
        disk written: DiskWrite, basePoint: String?
    ) throws -> PointManifest {
        let pointID = Store.newPointID(at: createdAt)
        let chunkSize = store.config.chunkSize
        let index = DiskIndex(virtualSize: written.virtualSize, chunkSize: chunkSize, chunks: written.chunks)
        let stored = try session.putDiskIndex(index, vmUUID: vm.uuid, pointID: pointID, target: "vda")
        let totals = written.totals
        let disk = PointDisk(
            target: "vda", sourcePath: "/var/lib/libvirt/images/\(vm.name).raw", format: "raw",
            virtualSize: written.virtualSize, chunkSize: chunkSize, mode: basePoint == nil ? .full : .incremental,
            fullReason: nil, checkpoint: nil, basePoint: basePoint, indexKey: stored.key, indexDigest: stored.digest,
            bytesRead: UInt64(written.bytesRead), bytesStored: UInt64(totals.bytesStored),
            dataBytes: UInt64(totals.dataBytes), chunksNew: totals.chunksNew, chunksReused: totals.chunksReused)
        let manifest = PointManifest(
            id: pointID, vmName: vm.name, vmUUID: vm.uuid, createdAt: createdAt, finishedAt: createdAt.addingTimeInterval(60),
            consistency: .shutoff, consistencyNote: nil, host: "storebench",
            domainXML: "<domain><name>\(vm.name)</name></domain>", nvramKey: nil, nvramPath: nil, disks: [disk])
        try session.commit(manifest)
        return manifest
    }
}

/// One disk as a backup wrote it: every chunk id in disk order, and what it cost.
struct DiskWrite {
    var virtualSize: UInt64
    var chunks: [ChunkID]
    var totals: ParallelChunker.Totals
    var bytesRead: Int
}

/// One line of JSON on stdout, for the benchmark script.
func printJSON(_ fields: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
