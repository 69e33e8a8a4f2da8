import Foundation
import VBackupStore

/// Writes one disk of a point: `workers` threads each take the next batch of consecutive chunks,
/// read and verify them from the store (`Store.readChunks`: one ranged read per run of chunks
/// stored back to back), and write them in place. Zero chunks are skipped, so the image stays
/// sparse. A batch that fails is redone chunk by chunk, so damage is reported per chunk.
struct DiskRestore {
    /// Chunks per batch: 8 MiB at the default chunk size, about one request to an object store.
    static let batchSize = 32

    var store: Store
    var index: DiskIndex
    var target: String
    /// Leave lost chunks as zeros and report them instead of failing.
    var allowDamaged: Bool
    var workers: Int
    var progress: any ProgressSink
    var isCancelled: @Sendable () -> Bool
    var pointID: String

    /// Returns the number of bytes written and the ranges lost (only with `allowDamaged`).
    func run(into target: RestoreTarget) throws -> (written: UInt64, damaged: [DamagedRange]) {
        let state = RestoreState()
        let group = DispatchGroup()
        for _ in 0..<max(1, workers) {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                while let batch = state.next(Self.batchSize, limit: index.chunks.count) {
                    do {
                        if isCancelled() { throw EngineError.cancelled }
                        state.add(try restore(batch, into: target, state: state))
                    } catch {
                        state.fail(error)
                    }
                }
            }
        }
        group.wait()
        if let failure = state.failure { throw failure }
        return (state.written, state.damaged.sorted { $0.offset < $1.offset })
    }

    private func restore(_ batch: Range<Int>, into target: RestoreTarget, state: RestoreState) throws -> UInt64 {
        let chunks = batch.filter { !index.chunks[$0].isZero }
        let zeroBytes = batch.filter { index.chunks[$0].isZero }.reduce(UInt64(0)) { $0 + length(of: $1) }
        guard let data = try? store.readChunks(chunks.map { index.chunks[$0] }),
              zip(chunks, data).allSatisfy({ $1.count == Int(length(of: $0)) })
        else {
            return try batch.reduce(0) { $0 + (try restore($1, into: target, state: state)) }
        }
        var written: UInt64 = 0
        for (chunk, bytes) in zip(chunks, data) {
            try bytes.withUnsafeBytes { try target.write($0, at: UInt64(chunk) * UInt64(index.chunkSize)) }
            written += UInt64(bytes.count)
            progress.advanced(UInt64(bytes.count))
        }
        progress.advanced(zeroBytes)
        return written
    }

    private func length(of chunk: Int) -> UInt64 {
        min(UInt64(index.chunkSize), index.virtualSize - UInt64(chunk) * UInt64(index.chunkSize))
    }

    private func restore(_ chunk: Int, into target: RestoreTarget, state: RestoreState) throws -> UInt64 {
        let id = index.chunks[chunk]
        let offset = UInt64(chunk) * UInt64(index.chunkSize)
        let length = min(UInt64(index.chunkSize), index.virtualSize - offset)
        defer { progress.advanced(length) }
        guard !id.isZero else { return 0 }
        let data: Data
        do {
            data = try store.readChunk(id)
            guard data.count == Int(length) else {
                throw StoreError.corrupt(key: id.hex, reason: "chunk holds \(data.count) bytes, the index expects \(length)")
            }
        } catch let error as StoreError {
            let lost = DamagedRange(disk: self.target, offset: offset, length: length, chunk: id.hex, reason: "\(error)")
            guard allowDamaged else { throw EngineError.damagedPoint(point: pointID, ranges: [lost]) }
            state.damage(lost)
            return 0
        }
        try data.withUnsafeBytes { try target.write($0, at: offset) }
        return length
    }
}

/// Work distribution and the first failure, shared by the restore threads.
private final class RestoreState: @unchecked Sendable {
    private let lock = NSLock()
    private var cursor = 0
    private(set) var written: UInt64 = 0
    private(set) var failure: Error?
    private(set) var damaged: [DamagedRange] = []

    func next(_ count: Int, limit: Int) -> Range<Int>? {
        lock.withLock {
            guard failure == nil, cursor < limit else { return nil }
            defer { cursor = min(limit, cursor + count) }
            return cursor..<min(limit, cursor + count)
        }
    }

    func add(_ bytes: UInt64) { lock.withLock { written += bytes } }
    func fail(_ error: Error) { lock.withLock { if failure == nil { failure = error } } }
    func damage(_ range: DamagedRange) { lock.withLock { damaged.append(range) } }
}
