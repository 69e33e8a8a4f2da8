import Foundation

/// Source chunks to read, grouped into few large ranged reads: a chunk is one ranged read of
/// its pack, and a copy wants many chunks that sit next to each other (a backup writes a disk's
/// chunks into packs in order), so reading them one request each would cost an S3 source about
/// 4,000 GETs per GiB. Neighbours in one pack are merged into one read of up to `maximumBytes`,
/// bridging gaps of unneeded blobs up to `maximumGap` bytes (read and dropped).
struct RangeRead: Sendable {
    let pack: String
    let offset: UInt64
    let length: Int
    /// The chunks inside, each at its own location.
    let chunks: [ChunkLocation]

    static let maximumBytes = 4 << 20
    static let maximumGap: UInt64 = 64 << 10

    /// Reads for `locations` (one per chunk), each within one pack, in pack then offset order.
    static func plan(_ locations: [ChunkLocation]) -> [RangeRead] {
        let byPack = Dictionary(grouping: locations, by: \.pack)
        var reads: [RangeRead] = []
        for pack in byPack.keys.sorted() {
            var group: [ChunkLocation] = []
            for location in byPack[pack]!.sorted(by: { $0.offset < $1.offset }) {
                if let first = group.first, let last = group.last {
                    let end = last.offset + UInt64(last.length)
                    let fits = location.offset <= end + maximumGap
                        && location.offset + UInt64(location.length) - first.offset <= UInt64(maximumBytes)
                    if !fits {
                        reads.append(RangeRead(group))
                        group = []
                    }
                }
                group.append(location)
            }
            if !group.isEmpty { reads.append(RangeRead(group)) }
        }
        return reads
    }

    private init(_ group: [ChunkLocation]) {
        pack = group[0].pack
        offset = group[0].offset
        let last = group[group.count - 1]
        length = Int(last.offset + UInt64(last.length) - offset)
        chunks = group
    }

    /// The blob of `chunk` (one of `chunks`) inside the bytes this read returned.
    func blob(of chunk: ChunkLocation, in data: Data) -> Data? {
        let start = Int(chunk.offset - offset), end = start + Int(chunk.length)
        guard end <= data.count else { return nil }
        return data.subdata(in: data.startIndex + start..<data.startIndex + end)
    }
}

extension Store {
    /// The bytes of one planned read; a pack that has gone or is short surfaces as an error
    /// the caller answers by reading chunk by chunk (`readVerifiedBlob`, every location).
    func read(_ range: RangeRead) throws -> Data {
        let key = StoreFormat.packKey(range.pack)
        return try io(key) { try adapter.getRange(key, offset: Int(range.offset), length: range.length) }
    }

    /// Where to read a chunk from: its first known location.
    func firstLocation(of id: ChunkID) throws -> ChunkLocation {
        guard let location = try catalog.locations(of: id).first else { throw StoreError.chunkMissing(id) }
        return location
    }
}
