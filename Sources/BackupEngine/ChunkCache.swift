import Foundation
import VBackupStore

/// Decoded chunks kept in memory for readers of a served point: QEMU and FUSE read a 256 KiB
/// chunk in several 64 KiB-2 MiB pieces, and decoding (read from the pack, decompress, hash)
/// costs far more than a copy. Bounded by bytes; the least recently used chunk goes first.
/// Concurrent readers of one chunk share one decode: the first loads, the others wait for it.
/// A failed load is not cached, so a later read tries the store again.
final class ChunkCache: @unchecked Sendable {
    private struct Entry {
        var data: Data
        var lastUse: UInt64
    }

    /// One decode in progress, which other readers of the chunk wait on.
    private final class Pending: @unchecked Sendable {
        let done = NSCondition()
        var result: Result<Data, Error>?
    }

    let capacity: Int
    private let lock = NSLock()
    private var entries: [ChunkID: Entry] = [:]
    private var pending: [ChunkID: Pending] = [:]
    private var bytes = 0
    private var clock: UInt64 = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// The chunk's bytes, from memory or from `load` (run once however many readers ask).
    func data(for id: ChunkID, load: () throws -> Data) throws -> Data {
        lock.lock()
        clock += 1
        if let entry = entries[id] {
            entries[id]?.lastUse = clock
            lock.unlock()
            return entry.data
        }
        if let wait = pending[id] {
            lock.unlock()
            return try result(of: wait)
        }
        let mine = Pending()
        pending[id] = mine
        lock.unlock()

        let result = Result { try load() }
        lock.lock()
        pending[id] = nil
        if case .success(let data) = result { insert(data, for: id) }
        lock.unlock()
        mine.done.lock()
        mine.result = result
        mine.done.broadcast()
        mine.done.unlock()
        return try result.get()
    }

    private func result(of pending: Pending) throws -> Data {
        pending.done.lock()
        defer { pending.done.unlock() }
        while pending.result == nil { pending.done.wait() }
        return try pending.result!.get()
    }

    /// Adds under `lock`, evicting least recently used entries past `capacity`. The scan for the
    /// oldest is linear, over at most capacity / chunk size entries (1,024 at the defaults),
    /// which is small beside one chunk's decode.
    private func insert(_ data: Data, for id: ChunkID) {
        guard data.count <= capacity else { return }
        while bytes + data.count > capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            bytes -= oldest.value.data.count
            entries[oldest.key] = nil
        }
        entries[id] = Entry(data: data, lastUse: clock)
        bytes += data.count
    }
}
