import Foundation
import VBackupModel

/// What the committed points need: the chunks their disk indexes name and their key prefixes.
struct LiveSet {
    var chunks: Set<ChunkID> = []
    var manifests: Set<String> = []
    /// `points/<vm>/<point>/` of every committed point: objects under it are not orphans.
    var pointPrefixes: Set<String> = []

    /// Adds a point; reading its disk indexes is the only I/O.
    mutating func add(_ manifest: PointManifest, key: String, store: Store) throws {
        guard manifests.insert(key).inserted else { return }
        pointPrefixes.insert(Self.pointPrefix(of: key))
        for disk in manifest.disks {
            for id in try store.readDiskIndex(disk).chunks where !id.isZero { chunks.insert(id) }
        }
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
