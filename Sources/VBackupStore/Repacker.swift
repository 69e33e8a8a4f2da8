import Foundation

/// A pack holding live and dead chunks.
struct PartlyUsedPack: Sendable {
    var pack: String
    var live: [ChunkLocation]
    var deadBytes: Int
}

/// Copies chunks out of old packs into new ones, blob for blob (no re-encoding, so encrypted
/// stores need no key here), checking each blob before it is copied so a corrupt blob is never
/// laundered into a fresh pack. GC uses it to repack partly used packs, verify's repair to
/// rescue the intact chunks of a bad pack.
struct Repacker {
    let store: Store
    /// Pack names the new packs must not take (condemned or about to be).
    let avoiding: Set<String>
    private var writer: PackWriter
    private(set) var result = Result()

    struct Result {
        /// Old packs whose chunks (all those asked for) now have copies in `newPacks`.
        var replaced: Set<String> = []
        var newPacks: [String: Int] = [:]
        var locations: [ChunkLocation] = []
        var bytesCopied = 0

        /// Writes the fragment naming the new packs and ingests it.
        func index(into store: Store) throws {
            try store.putFragment(locations)
        }
    }

    init(store: Store, avoiding: Set<String>) {
        self.store = store
        self.avoiding = avoiding
        writer = Self.newWriter(store)
    }

    /// Repacks partly used packs: a pack is copied only if every live blob in it checks out
    /// (otherwise it stays, for verify to deal with).
    static func repack(
        _ packs: [PartlyUsedPack], store: Store, avoiding: Set<String>, progress: any MaintenanceProgress
    ) throws -> Result {
        var repacker = Repacker(store: store, avoiding: avoiding)
        guard !packs.isEmpty else { return repacker.result }
        progress.phase("repacking", total: packs.count)
        for candidate in packs {
            try repacker.copy(candidate.live, from: candidate.pack, requireAll: true)
            progress.advanced(by: 1)
        }
        return try repacker.finish()
    }

    /// Copies the blobs at `locations` of `pack` that check out; with `requireAll`, none
    /// unless all do. The pack counts as replaced when all were copied.
    mutating func copy(_ locations: [ChunkLocation], from pack: String, requireAll: Bool) throws {
        guard let data = try? store.adapter.get(StoreFormat.packKey(pack)) else { return }
        var blobs: [EncodedChunk] = []
        for location in locations {
            guard case .success(let blob) = store.checkBlob(at: location, in: data) else { continue }
            blobs.append(EncodedChunk(id: location.id, blob: blob, rawLength: Int(location.rawLength)))
        }
        let complete = blobs.count == locations.count
        guard complete || !requireAll else { return }
        for blob in blobs {
            writer.append(blob)
            result.bytesCopied += blob.blob.count
            if writer.byteCount >= store.config.packSize { try flush() }
        }
        if complete { result.replaced.insert(pack) }
    }

    /// Writes the last pack; the copies are not indexed until `Result.index(into:)`.
    mutating func finish() throws -> Result {
        try flush()
        return result
    }

    private mutating func flush() throws {
        guard !writer.isEmpty else { return }
        let sealed = writer.seal(with: store.cipher, avoiding: avoiding)
        try store.io(sealed.key) { try store.adapter.put(sealed.key, data: sealed.data) }
        result.newPacks[sealed.id] = sealed.data.count
        result.locations += sealed.locations
        writer = Self.newWriter(store)
    }

    private static func newWriter(_ store: Store) -> PackWriter {
        PackWriter(capacity: store.config.packSize + store.config.chunkSize)
    }
}
