import Foundation

/// A pack holding live and dead chunks.
struct PartlyUsedPack: Sendable {
    var pack: String
    var live: [ChunkLocation]
    var deadBytes: Int
}

/// Copies the live chunks of partly used packs into new packs, blob for blob (no re-encoding,
/// so encrypted stores need no key here), checking each blob before it is copied: a corrupt
/// blob is never laundered into a fresh pack (that pack is left for verify).
struct Repacker {
    let store: Store
    /// Pack names the new packs must not take (condemned or about to be).
    let avoiding: Set<String>
    let progress: any MaintenanceProgress

    struct Result {
        /// Old packs whose live chunks now have copies in `newPacks`.
        var replaced: Set<String> = []
        var newPacks: [String: Int] = [:]
        var locations: [ChunkLocation] = []
        var bytesCopied = 0

        /// Writes the fragment naming the new packs and ingests it.
        func index(into store: Store) throws {
            guard !locations.isEmpty else { return }
            let data = store.sealed(IndexFragment(locations: locations).serialized(), kind: .indexFragment)
            let key = StoreFormat.fragmentKey(Digests.hex(of: data))
            try store.io(key) { try store.adapter.put(key, data: data) }
            try store.catalog.ingest(fragment: key, locations: locations)
        }
    }

    func run(_ packs: [PartlyUsedPack]) throws -> Result {
        var result = Result()
        guard !packs.isEmpty else { return result }
        progress.phase("repacking", total: packs.count)
        var writer = PackWriter(capacity: store.config.packSize + store.config.chunkSize)
        func flush() throws {
            guard !writer.isEmpty else { return }
            let sealed = writer.seal(with: store.cipher, avoiding: avoiding)
            try store.io(sealed.key) { try store.adapter.put(sealed.key, data: sealed.data) }
            result.newPacks[sealed.id] = sealed.data.count
            result.locations += sealed.locations
            writer = PackWriter(capacity: store.config.packSize + store.config.chunkSize)
        }
        for candidate in packs {
            defer { progress.advanced(by: 1) }
            let key = StoreFormat.packKey(candidate.pack)
            guard let data = try? store.adapter.get(key) else { continue }
            var blobs: [EncodedChunk] = []
            for location in candidate.live {
                let end = Int(location.offset) + Int(location.length)
                guard end <= data.count else { break }
                let blob = data.subdata(in: Int(location.offset)..<end)
                guard (try? store.chunkCodec.decode(blob, expecting: location.id)) != nil else { break }
                blobs.append(EncodedChunk(id: location.id, blob: blob, rawLength: Int(location.rawLength)))
            }
            guard blobs.count == candidate.live.count else { continue }
            for blob in blobs {
                writer.append(blob)
                result.bytesCopied += blob.blob.count
                if writer.byteCount >= store.config.packSize { try flush() }
            }
            result.replaced.insert(candidate.pack)
        }
        try flush()
        return result
    }
}
