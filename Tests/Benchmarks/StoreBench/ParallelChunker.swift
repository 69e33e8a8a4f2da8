import Foundation
import VBackupStore

/// Fills, hashes, compresses and stores chunks on several threads, like the backup engine's
/// pipeline: each thread owns one buffer, the store's codec runs outside any lock and
/// `WriteSession.add` is thread-safe. All-zero chunks become `ChunkID.zero` and are not stored.
final class ParallelChunker: @unchecked Sendable {
    /// What the chunks cost: bytes of new blobs written, new and reused chunks.
    struct Totals {
        var bytesStored = 0
        var dataBytes = 0
        var chunksNew = 0
        var chunksReused = 0
    }

    private let lock = NSLock()
    /// Chunk ids by job index; each index is written by the one thread that took the job.
    private let ids: UnsafeMutableBufferPointer<ChunkID>
    private var next = 0
    private var totals = Totals()
    private var failure: Error?

    /// Encodes and adds the chunks `jobs` names; `fill(job, buffer)` writes job's bytes into a
    /// `chunkSize` buffer and returns how many it wrote. Returns the ids in job order.
    static func store<Job: Sendable>(
        _ jobs: [Job], chunkSize: Int, session: WriteSession, codec: ChunkCodec,
        fill: @escaping @Sendable (Job, UnsafeMutableRawBufferPointer) throws -> Int
    ) throws -> (ids: [ChunkID], totals: Totals) {
        let chunker = ParallelChunker(count: jobs.count)
        let group = DispatchGroup()
        for _ in 0..<max(1, ProcessInfo.processInfo.activeProcessorCount) {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                chunker.work(jobs, chunkSize: chunkSize, session: session, codec: codec, fill: fill)
            }
        }
        group.wait()
        if let failure = chunker.failure { throw failure }
        return (Array(chunker.ids), chunker.totals)
    }

    private init(count: Int) {
        ids = .allocate(capacity: count)
        ids.initialize(repeating: .zero)
    }

    deinit { ids.deallocate() }

    private func work<Job>(
        _ jobs: [Job], chunkSize: Int, session: WriteSession, codec: ChunkCodec, fill: (Job, UnsafeMutableRawBufferPointer) throws -> Int
    ) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 4096)
        defer { buffer.deallocate() }
        var mine = Totals()
        while let index = take(limit: jobs.count) {
            do {
                let length = try fill(jobs[index], buffer)
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<length])
                if ChunkCodec.isAllZero(chunk) { continue }  // ids start as .zero
                let encoded = codec.encode(chunk)
                let written = try session.add(encoded)
                ids[index] = encoded.id
                mine.dataBytes += length
                if written > 0 { mine.chunksNew += 1; mine.bytesStored += written } else { mine.chunksReused += 1 }
            } catch {
                lock.withLock { if failure == nil { failure = error } }
            }
        }
        lock.withLock {
            totals.bytesStored += mine.bytesStored
            totals.dataBytes += mine.dataBytes
            totals.chunksNew += mine.chunksNew
            totals.chunksReused += mine.chunksReused
        }
    }

    private func take(limit: Int) -> Int? {
        lock.withLock {
            guard failure == nil, next < limit else { return nil }
            defer { next += 1 }
            return next
        }
    }
}
