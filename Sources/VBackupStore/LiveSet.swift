import Foundation
import VBackupModel

/// What the committed points need: the chunks their disk indexes name and their key prefixes.
struct LiveSet {
    var chunks: Set<ChunkID> = []
    var manifests: Set<String> = []
    /// `points/<vm>/<point>/` of every committed point: objects under it are not orphans.
    var pointPrefixes: Set<String> = []

    /// Adds a point; reading its disk indexes is the only I/O.
    ///
    /// A disk index that is not found is another host's prune at work (it deletes the manifest
    /// first, then the rest): when the manifest is gone too, the point is no longer live and is
    /// left out. A missing index under a manifest that is still there is damage, and throws:
    /// GC must not free chunks a point may need.
    mutating func add(_ manifest: PointManifest, key: String, store: Store) throws {
        guard !manifests.contains(key) else { return }
        var needed: Set<ChunkID> = []
        for disk in manifest.disks {
            do {
                for id in try store.readDiskIndex(disk).chunks where !id.isZero { needed.insert(id) }
            } catch StoreError.storage(.notFound) {
                if try store.io(key, { try store.adapter.stat(key) }) == nil { return }
                throw StoreError.corrupt(key: disk.indexKey, reason: "missing, and its point's manifest \(key) is still there")
            }
        }
        manifests.insert(key)
        pointPrefixes.insert(Self.pointPrefix(of: key))
        chunks.formUnion(needed)
    }

    /// `points/<vm>/<point>/` for any key under a point.
    static func pointPrefix(of key: String) -> String {
        key.split(separator: "/", omittingEmptySubsequences: false).prefix(3).joined(separator: "/") + "/"
    }
}

extension Store {
    /// Adds every point in the catalog that `live` does not hold yet.
    func markPoints(into live: inout LiveSet, progress: any MaintenanceProgress) throws {
        let entries = try catalog.pointEntries().filter { !live.manifests.contains($0.key) }
        progress.phase("reading point indexes", total: entries.count)
        for entry in entries {
            let manifest = try StoreJSON.manifest(Data(entry.json.utf8), key: entry.key)
            try live.add(manifest, key: entry.key, store: self)
            progress.advanced(by: 1)
        }
    }
}
