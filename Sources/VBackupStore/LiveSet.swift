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

    /// Rewrites the index fragments that name `packs` without them (replacement first, then the
    /// old fragment is deleted), so no host's catalog offers chunks from those packs again.
    func dropFromIndex(packs: Set<String>) throws {
        guard !packs.isEmpty else { return }
        let fragments = try catalog.fragments(naming: packs)
        for key in fragments.sorted() {
            let data = try io(key) { try adapter.get(key) }
            let fragment = try io(key) { try IndexFragment(serialized: opened(data, kind: .indexFragment)) }
            let kept = fragment.locations.filter { !packs.contains($0.pack) }
            if !kept.isEmpty {
                let replacement = sealed(IndexFragment(locations: kept).serialized(), kind: .indexFragment)
                let newKey = StoreFormat.fragmentKey(Digests.hex(of: replacement))
                try io(newKey) { try adapter.put(newKey, data: replacement) }
                try catalog.ingest(fragment: newKey, locations: kept)
            }
            try io(key) { try adapter.delete(key) }
        }
        try catalog.forget(fragments: fragments, packs: packs)
    }

    /// Every stored pack and its size.
    func listPacks() throws -> [String: Int] {
        let listed = try io("packs/") { try adapter.list(prefix: "packs/") }
        var packs: [String: Int] = [:]
        for object in listed where object.key.hasSuffix(".pack") {
            let name = object.key.split(separator: "/").last!.dropLast(".pack".count)
            packs[String(name)] = object.size
        }
        return packs
    }
}
