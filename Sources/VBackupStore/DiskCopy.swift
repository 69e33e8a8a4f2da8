import Foundation

/// Copies the chunks of one disk into a target write session and returns the disk's index in
/// the target's chunk names.
///
/// The disk goes in rounds of `batchChunks` positions. First, on several threads, whatever
/// needs no source read is settled, cheapest question first: a zero chunk is neither read nor
/// sent; when both stores name chunks alike the target is asked before the source is read at
/// all; otherwise the translation table may already know the target name. The chunks left are
/// read in few large ranged reads (`RangeRead`), on several threads, each blob verified against
/// its id, named and encoded for the target, and sent if the target still lacks it. A round
/// holds at most `batchChunks` chunks in memory.
struct DiskCopy: Sendable {
    let source: Store
    let session: WriteSession
    let targetCodec: ChunkCodec
    /// Nil when both stores name chunks alike (both plain: SHA-256).
    let translation: ChunkTranslation?
    let tally: CopyTally
    let checkpoints: Checkpoints
    let options: CopyOptions
    let threads: Int

    /// 32 MiB of 256 KiB chunks: enough neighbours to merge reads, little enough to hold.
    static let batchChunks = 128

    func run(_ index: DiskIndex) throws -> DiskIndex {
        let slots = IDSlots(count: index.chunks.count)
        var start = 0
        while start < index.chunks.count {
            if options.isCancelled() { throw CopyInterrupted() }
            let end = min(start + Self.batchChunks, index.chunks.count)
            try copyRound(Array(index.chunks[start..<end]), from: start, into: slots)
            options.progress(.chunksDone(end - start))
            start = end
        }
        return DiskIndex(virtualSize: index.virtualSize, chunkSize: index.chunkSize, chunks: slots.ids)
    }

    private func copyRound(_ ids: [ChunkID], from base: Int, into slots: IDSlots) throws {
        let unread = UnreadChunks()
        try ParallelLoop.run(count: ids.count, threads: threads) { [self] offset in
            if let known = try settledWithoutReading(ids[offset]) {
                slots[base + offset] = known
            } else {
                unread.add(ids[offset], at: base + offset)
            }
        }
        let reads = RangeRead.plan(try unread.ids.map { try source.firstLocation(of: $0) })
        try ParallelLoop.run(count: reads.count, threads: threads) { [self] number in
            if options.isCancelled() { throw CopyInterrupted() }
            let range = reads[number]
            let data = try? source.read(range)
            tally.bytesRead(data?.count ?? 0)
            for location in range.chunks {
                let targetID = try copy(location, blob: data.flatMap { range.blob(of: location, in: $0) })
                let positions = unread.positions(of: location.id)
                for position in positions { slots[position] = targetID }
                for _ in positions.dropFirst() { tally.chunkDeduplicated() }  // the same chunk again in this round
            }
        }
    }

    /// The chunk's id in the target when it needs no source read: a zero chunk, or one the
    /// target has under a name known without reading it.
    private func settledWithoutReading(_ id: ChunkID) throws -> ChunkID? {
        if id.isZero {
            tally.zeroChunk()
            return .zero
        }
        guard let name = translation == nil ? id : translation?.target(for: id), try session.contains(name) else { return nil }
        tally.chunkDeduplicated()
        return name
    }

    /// Verifies the source blob (read alone, from any location, when the ranged read failed or
    /// the blob does not check out), then sends it in the target's form unless the target has
    /// it. Returns the chunk's id in the target.
    private func copy(_ location: ChunkLocation, blob: Data?) throws -> ChunkID {
        let (blob, data) = try verified(location.id, blob)
        guard let translation else { return try send(EncodedChunk(id: location.id, blob: blob, rawLength: data.count)) }
        let targetID = data.withUnsafeBytes { targetCodec.id(of: $0) }
        translation.record(location.id, targetID)
        if try session.contains(targetID) {
            tally.chunkDeduplicated()
            return targetID
        }
        return try send(data.withUnsafeBytes { targetCodec.encode($0) })
    }

    private func verified(_ id: ChunkID, _ blob: Data?) throws -> (blob: Data, data: Data) {
        if let blob, let data = try? source.chunkCodec.decode(blob, expecting: id) { return (blob, data) }
        let (blob, data) = try source.readVerifiedBlob(id)
        tally.bytesRead(blob.count)
        return (blob, data)
    }

    private func send(_ chunk: EncodedChunk) throws -> ChunkID {
        options.throttle(chunk.blob.count)
        if options.isCancelled() { throw CopyInterrupted() }
        let written = try session.add(chunk)
        if written > 0 {
            tally.chunkSent(bytes: written)
            try checkpoints.added(written)
        } else {
            tally.chunkDeduplicated()  // another thread sent the same chunk a moment ago
        }
        return chunk.id
    }
}

/// The chunks of a round that must be read from the source, and where each goes in the disk.
private final class UnreadChunks: @unchecked Sendable {
    private let lock = NSLock()
    private var positions: [ChunkID: [Int]] = [:]

    func add(_ id: ChunkID, at position: Int) { lock.withLock { positions[id, default: []].append(position) } }
    var ids: [ChunkID] { lock.withLock { Array(positions.keys) } }
    func positions(of id: ChunkID) -> [Int] { lock.withLock { positions[id] ?? [] } }
}

/// Checkpoints a write session every `interval` bytes of sent chunks (about N packs), so a
/// killed copy loses at most that much; one checkpoint at a time, the others keep adding.
final class Checkpoints: @unchecked Sendable {
    private let session: WriteSession
    private let interval: Int
    private let tally: CopyTally
    private let progress: @Sendable (CopyProgress) -> Void
    private let lock = NSLock()
    private var sinceLast = 0

    init(session: WriteSession, interval: Int, tally: CopyTally, progress: @escaping @Sendable (CopyProgress) -> Void) {
        self.session = session
        self.interval = max(1, interval)
        self.tally = tally
        self.progress = progress
    }

    func added(_ bytes: Int) throws {
        let due: Bool = lock.withLock {
            sinceLast += bytes
            guard sinceLast >= interval else { return false }
            sinceLast = 0
            return true
        }
        if due { try checkpoint() }
    }

    /// A checkpoint now (at the end of each disk).
    func now() throws {
        lock.withLock { sinceLast = 0 }
        try checkpoint()
    }

    private func checkpoint() throws {
        try session.checkpoint()
        let (chunks, bytes) = tally.sent
        progress(.checkpointed(chunksSent: chunks, bytesSent: bytes))
    }
}

/// One id per chunk position, each written by exactly one thread of the loop.
private final class IDSlots: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<ChunkID>

    init(count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: .zero)
    }

    deinit { buffer.deallocate() }

    subscript(position: Int) -> ChunkID {
        get { buffer[position] }
        set { buffer[position] = newValue }
    }

    var ids: [ChunkID] { Array(buffer) }
}

/// Thrown inside a copy when `CopyOptions.isCancelled` turns true.
struct CopyInterrupted: Error {}

extension Store {
    /// A chunk's stored blob and its decoded bytes, checked against its id: a plain copy sends
    /// the blob as it is, with no second compression. Tries each location, like `readChunk`.
    func readVerifiedBlob(_ id: ChunkID) throws -> (blob: Data, data: Data) {
        let locations = try catalog.locations(of: id)
        guard !locations.isEmpty else { throw StoreError.chunkMissing(id) }
        var firstError: Error?
        for location in locations {
            let key = StoreFormat.packKey(location.pack)
            do {
                let blob = try io(key) {
                    try adapter.getRange(key, offset: Int(location.offset), length: Int(location.length))
                }
                return (blob, try io(key) { try chunkCodec.decode(blob, expecting: id) })
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        throw firstError!
    }
}
