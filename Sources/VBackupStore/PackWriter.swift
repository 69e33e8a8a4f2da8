import Foundation

/// A pack being filled in memory; at most one per write session, so a session holds about
/// `packSize` bytes of chunk data plus the packs its threads are uploading.
struct PackWriter {
    private var data: Data
    private var entries: [ChunkLocation] = []

    init(capacity: Int) {
        data = Data()
        data.reserveCapacity(capacity)
    }

    var isEmpty: Bool { entries.isEmpty }
    var byteCount: Int { data.count }

    mutating func append(_ chunk: EncodedChunk) {
        entries.append(ChunkLocation(
            id: chunk.id, pack: "", offset: UInt64(data.count),
            length: UInt32(chunk.blob.count), rawLength: UInt32(chunk.rawLength)))
        data.append(chunk.blob)
    }

    /// Appends the trailer (sealed with `cipher` in an encrypted store) in place, with no copy
    /// of the pack, and names the pack by the SHA-256 of all its bytes. The writer is spent
    /// afterwards.
    ///
    /// A pack whose name is in `avoiding` (a pack GC has condemned: same chunks, same order) gets
    /// 32 random bytes before its trailer, which no entry names, so it is stored under a new
    /// name and never overwrites a pack that GC may be deleting.
    mutating func seal(with cipher: ObjectCipher, avoiding: Set<String> = []) -> SealedPack {
        let trailer = Pack.trailer(for: entries, cipher: cipher)
        data.append(trailer)
        var packID = Digests.hex(of: data)
        while avoiding.contains(packID) {
            data.removeLast(trailer.count)
            data.append(contentsOf: (0..<32).map { _ in UInt8.random(in: 0...255) })
            data.append(trailer)
            packID = Digests.hex(of: data)
        }
        let located = entries.map { entry -> ChunkLocation in
            var entry = entry
            entry.pack = packID
            return entry
        }
        let sealed = SealedPack(id: packID, data: data, locations: located)
        self = PackWriter(capacity: 0)
        return sealed
    }
}

/// A complete pack, ready to be put under `StoreFormat.packKey(id)`.
struct SealedPack: Sendable {
    let id: String
    let data: Data
    let locations: [ChunkLocation]

    var key: String { StoreFormat.packKey(id) }
}
