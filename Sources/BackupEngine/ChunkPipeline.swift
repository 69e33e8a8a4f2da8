import Foundation
import VBackupModel
import VBackupStore

/// Where the pipeline reads a disk from (an NBD export, in production).
protocol BlockSource: AnyObject, Sendable {
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws
}

/// Where the pipeline puts chunks (a store write session, in production), where it finds
/// the base point's chunks, and the store's codec (chunk ids and blobs, sealed if encrypted).
protocol ChunkSink: AnyObject, Sendable {
    var codec: ChunkCodec { get }
    func add(_ chunk: EncodedChunk) throws -> Int
    func baseChunk(_ id: ChunkID) throws -> Data
    /// Whether a base chunk may be referenced (not lost, not condemned by GC).
    func canReference(_ id: ChunkID) throws -> Bool
}

/// Counters of one disk's backup.
struct DiskBackupStats: Sendable {
    var bytesRead: UInt64 = 0
    var bytesStored: UInt64 = 0
    var dataBytes: UInt64 = 0
    var chunksNew = 0
    var chunksReused = 0
    var readSeconds = 0.0
    var encodeSeconds = 0.0
    var storeSeconds = 0.0
}

/// Monotonic seconds, for stage timing.
func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

/// Reads, hashes, compresses (and encrypts) and stores one disk's chunks, with the stages overlapping: one
/// reader thread feeds `workers` threads that merge, hash, compress and store. The queue between
/// them is bounded, so memory is about (queue + workers) chunks whatever the disk size.
final class ChunkPipeline: @unchecked Sendable {
    private struct Job {
        var chunk: Int
        var buffer: UnsafeMutableRawBufferPointer
        var keep: [Extent]
        var base: ChunkID?
        var window: Extent
    }

    private let planner: ChunkPlanner
    private let sink: any ChunkSink
    private let workers: Int
    private let progress: (UInt64) -> Void
    private let isCancelled: () -> Bool
    private let gate: (any ReadGate)?
    private let buffers: ChunkBufferPool
    private let lock = NSLock()
    private var results: [ChunkID]
    private var stats = DiskBackupStats()
    private var failure: Error?

    init(planner: ChunkPlanner, sink: any ChunkSink, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
         progress: @escaping (UInt64) -> Void = { _ in }, isCancelled: @escaping () -> Bool = { false },
         gate: (any ReadGate)? = nil) {
        self.planner = planner
        self.sink = sink
        self.workers = max(1, workers)
        self.progress = progress
        self.isCancelled = isCancelled
        self.gate = gate
        // The queue's capacity, plus one per worker (processing) and a few readers (filling).
        self.buffers = ChunkBufferPool(limit: max(1, workers) * 3 + 4)
        self.results = Array(repeating: .zero, count: planner.chunkCount)
    }

    /// Runs the whole disk; returns the chunk ids in disk order and the counters.
    func run(source: BlockSource) throws -> (chunks: [ChunkID], stats: DiskBackupStats) {
        try run(sources: [source])
    }

    /// Runs the whole disk with one reader thread per source (separate connections to the same
    /// export): an NBD round trip per read leaves the server idle between requests, and two
    /// connections keep it busy.
    func run(sources: [BlockSource]) throws -> (chunks: [ChunkID], stats: DiskBackupStats) {
        precondition(!sources.isEmpty)
        let queue = BoundedQueue<Job>(capacity: workers * 2)
        let workersDone = DispatchGroup(), readersDone = DispatchGroup()
        for _ in 0..<workers {
            workersDone.enter()
            Thread.detachNewThread { [self] in
                while let job = queue.pop() { process(job) }
                workersDone.leave()
            }
        }
        for source in sources.dropFirst() {
            readersDone.enter()
            Thread.detachNewThread { [self] in
                read(source: source, into: queue)
                readersDone.leave()
            }
        }
        read(source: sources[0], into: queue)
        readersDone.wait()
        queue.close()
        workersDone.wait()
        if let failure { throw failure }
        return (results, stats)
    }

    private var nextChunk = 0

    /// The next chunk for a reader, in disk order.
    private func takeChunk() -> Int? {
        lock.withLock {
            guard nextChunk < planner.chunkCount else { return nil }
            defer { nextChunk += 1 }
            return nextChunk
        }
    }

    private func read(source: BlockSource, into queue: BoundedQueue<Job>) {
        while let chunk = takeChunk() {
            if hasFailed { break }
            if isCancelled() { fail(EngineError.cancelled); break }
            let window = planner.window(chunk)
            let action: ChunkAction
            do {
                action = try usable(planner.action(for: chunk), chunk)
            } catch {
                fail(error)
                break
            }
            switch action {
            case .zero:
                record(chunk, .zero) { _ in }
            case .reuse(let id):
                record(chunk, id) { $0.chunksReused += 1; $0.dataBytes += window.length }
            case .read(let data, let keep, let base):
                if let gate, !gate.admit(Int(data.reduce(0) { $0 + $1.length }), isCancelled: isCancelled) {
                    fail(EngineError.cancelled)
                    break
                }
                let buffer = buffers.take(byteCount: Int(window.length))
                Self.zeroGaps(of: buffer, around: data, window: window)
                let readStart = monotonicSeconds()
                do {
                    for extent in data {
                        let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[Int(extent.offset - window.offset)..<Int(extent.end - window.offset)])
                        try source.read(into: slice, at: extent.offset)
                    }
                } catch {
                    buffers.give(buffer)
                    fail(error)
                    break
                }
                let readBytes = data.reduce(0) { $0 + $1.length }
                let readTime = monotonicSeconds() - readStart
                lock.withLock { stats.bytesRead += readBytes; stats.readSeconds += readTime }
                if !queue.push(Job(chunk: chunk, buffer: buffer, keep: keep, base: base, window: window)) {
                    buffers.give(buffer)
                }
            }
            progress(window.length)
        }
    }

    /// A base chunk the store can no longer offer (GC condemned it, verify found it lost) is
    /// not reused: the chunk is read from the disk, whose clean parts still hold the same bytes.
    private func usable(_ action: ChunkAction, _ chunk: Int) throws -> ChunkAction {
        switch action {
        case .reuse(let id), .read(_, _, .some(let id)):
            return try sink.canReference(id) ? action : planner.freshRead(chunk)
        default:
            return action
        }
    }

    /// Zeroes the parts of a reused buffer that no read fills (holes and clean ranges, which
    /// a merge may overwrite after): `data` lies inside `window`, in any order.
    static func zeroGaps(of buffer: UnsafeMutableRawBufferPointer, around data: [Extent], window: Extent) {
        var filled = 0
        for extent in data.sorted(by: { $0.offset < $1.offset }) {
            let start = Int(extent.offset - window.offset)
            if start > filled { UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<start]).initializeMemory(as: UInt8.self, repeating: 0) }
            filled = max(filled, Int(extent.end - window.offset))
        }
        if filled < buffer.count {
            UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]).initializeMemory(as: UInt8.self, repeating: 0)
        }
    }

    private func process(_ job: Job) {
        defer { buffers.give(job.buffer) }
        guard !hasFailed else { return }
        do {
            let start = monotonicSeconds()
            if let base = job.base { try merge(base: base, keep: job.keep, into: job) }
            let buffer = UnsafeRawBufferPointer(job.buffer)
            if ChunkCodec.isAllZero(buffer) {
                let encodeTime = monotonicSeconds() - start
                record(job.chunk, .zero) { $0.encodeSeconds += encodeTime }
                return
            }
            let encoded = sink.codec.encode(buffer)
            let encodedAt = monotonicSeconds()
            let written = try sink.add(encoded)
            let storedAt = monotonicSeconds()
            record(job.chunk, encoded.id) {
                $0.encodeSeconds += encodedAt - start
                $0.storeSeconds += storedAt - encodedAt
                $0.dataBytes += job.window.length
                if written > 0 { $0.chunksNew += 1; $0.bytesStored += UInt64(written) } else { $0.chunksReused += 1 }
            }
        } catch {
            fail(error)
        }
    }

    /// Copies the clean ranges of a partly dirty chunk from the base point's copy of it.
    private func merge(base: ChunkID, keep: [Extent], into job: Job) throws {
        let old = try sink.baseChunk(base)
        guard old.count == job.buffer.count else {
            throw EngineError.backupFailed(vm: "", reason: "base chunk \(base) has \(old.count) bytes, expected \(job.buffer.count)")
        }
        old.withUnsafeBytes { source in
            for extent in keep {
                let range = Int(extent.offset - job.window.offset)..<Int(extent.end - job.window.offset)
                UnsafeMutableRawBufferPointer(rebasing: job.buffer[range]).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[range]))
            }
        }
    }

    private var hasFailed: Bool { lock.withLock { failure != nil } }

    private func fail(_ error: Error) {
        lock.withLock { if failure == nil { failure = error } }
    }

    private func record(_ chunk: Int, _ id: ChunkID, _ update: (inout DiskBackupStats) -> Void) {
        lock.withLock {
            results[chunk] = id
            update(&stats)
        }
    }
}
