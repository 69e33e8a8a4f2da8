import Foundation

/// Copies the chunks of one disk into a target write session on several threads and returns
/// the disk's index in the target's chunk names.
///
/// Per chunk, cheapest question first: a zero chunk is neither read nor sent; when both stores
/// name chunks alike the target is asked before the source is read at all; otherwise the
/// translation table may already know the target name. Only then is the source chunk read
/// (and verified against its id), named and encoded for the target, and sent if the target
/// still lacks it.
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

    func run(_ index: DiskIndex) throws -> DiskIndex {
        let slots = IDSlots(count: index.chunks.count)
        try ParallelLoop.run(count: index.chunks.count, threads: threads) { [self] position in
            if options.isCancelled() { throw CopyInterrupted() }
            slots[position] = try copy(index.chunks[position])
            options.progress(.chunksDone(1))
        }
        return DiskIndex(virtualSize: index.virtualSize, chunkSize: index.chunkSize, chunks: slots.ids)
    }

    /// The chunk's id in the target, which has it once this returns.
    private func copy(_ id: ChunkID) throws -> ChunkID {
        if id.isZero {
            tally.zeroChunk()
            return .zero
        }
        guard let translation else {
            if try session.contains(id) {
                tally.chunkDeduplicated()
                return id
            }
            let (blob, data) = try source.readVerifiedBlob(id)
            tally.bytesRead(blob.count)
            return try send(EncodedChunk(id: id, blob: blob, rawLength: data.count))
        }
        if let known = translation.target(for: id), try session.contains(known) {
            tally.chunkDeduplicated()
            return known
        }
        let (blob, data) = try source.readVerifiedBlob(id)
        tally.bytesRead(blob.count)
        let targetID = data.withUnsafeBytes { targetCodec.id(of: $0) }
        translation.record(id, targetID)
        if try session.contains(targetID) {
            tally.chunkDeduplicated()
            return targetID
        }
        return try send(data.withUnsafeBytes { targetCodec.encode($0) })
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
