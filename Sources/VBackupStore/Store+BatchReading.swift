import Foundation

extension Store {
    /// Reads several chunks with one ranged read per run of chunks that lie close together in
    /// one pack. A backup writes a disk's chunks into packs roughly in disk order (a few threads
    /// interleave them), so the chunks of a stretch of disk sit in one region of one pack: one
    /// request instead of one per chunk, which is what an object store charges and waits for
    /// (4,096 requests per GiB at 256 KiB chunks). Gaps up to `maxGapBytes` are read and dropped.
    ///
    /// Every chunk is still verified against its id. A chunk whose run cannot be read or does
    /// not verify is read on its own with `readChunk`, which tries its other locations and
    /// throws the precise error, so callers see the same failures as chunk by chunk.
    public func readChunks(_ ids: [ChunkID], maxRunBytes: Int = 16 << 20, maxGapBytes: Int = 1 << 20) throws -> [Data] {
        var results = [Data?](repeating: nil, count: ids.count)
        var located: [(position: Int, location: ChunkLocation)] = []
        for (position, id) in ids.enumerated() {
            if id.isZero {
                results[position] = Data(count: config.chunkSize)
                continue
            }
            guard let location = try catalog.locations(of: id).first else { throw StoreError.chunkMissing(id) }
            located.append((position, location))
        }
        located.sort { ($0.location.pack, $0.location.offset) < ($1.location.pack, $1.location.offset) }
        var runs: [ChunkRun] = []
        for member in located {
            if var last = runs.last, last.canAppend(member.location, maxBytes: maxRunBytes, maxGap: maxGapBytes) {
                last.members.append(member)
                runs[runs.count - 1] = last
            } else {
                runs.append(ChunkRun(members: [member]))
            }
        }
        for run in runs {
            let blobs = try? io(run.key) { try adapter.getRange(run.key, offset: run.start, length: run.end - run.start) }
            for (position, location) in run.members {
                if let blobs {
                    let from = Int(location.offset) - run.start
                    let blob = blobs.subdata(in: from..<(from + Int(location.length)))
                    if let data = try? io(run.key, { try chunkCodec.decode(blob, expecting: location.id) }) {
                        results[position] = data
                        continue
                    }
                }
                results[position] = try readChunk(location.id)
            }
        }
        return results.map { $0! }
    }
}

/// Chunks stored close together in one pack, in offset order, read with one ranged read.
private struct ChunkRun {
    var members: [(position: Int, location: ChunkLocation)]

    var key: String { StoreFormat.packKey(members[0].location.pack) }
    var start: Int { Int(members[0].location.offset) }
    /// Members are in offset order; a chunk repeated in the batch appears twice at one offset.
    var end: Int { members.map { Int($0.location.offset) + Int($0.location.length) }.max()! }

    func canAppend(_ location: ChunkLocation, maxBytes: Int, maxGap: Int) -> Bool {
        location.pack == members[0].location.pack && location.offset >= members[members.count - 1].location.offset
            && Int(location.offset) - end <= maxGap && Int(location.offset) + Int(location.length) - start <= maxBytes
    }
}
