import Foundation
import NBDServer
import VBackupModel
import VBackupStore

/// One disk of a point as an NBD export: reads map onto the disk's chunks, each read from the
/// store (which verifies its hash) through the shared `ChunkCache`; all-zero chunks are served
/// as zeros without touching the store and report as zero extents. The disk index is read
/// once, when the source is made.
final class PointDiskSource: NBDExportSource, @unchecked Sendable {
    let target: String
    let size: UInt64
    private let store: Store
    private let index: DiskIndex
    private let chunkSize: UInt64
    private let cache: ChunkCache
    private let failures: ReadFailureLog

    init(store: Store, disk: PointDisk, cache: ChunkCache, failures: ReadFailureLog) throws {
        let index = try store.readDiskIndex(disk)
        let expected = (index.virtualSize + UInt64(index.chunkSize) - 1) / UInt64(index.chunkSize)
        guard index.virtualSize == disk.virtualSize, UInt64(index.chunks.count) == expected else {
            throw StoreError.corrupt(key: disk.indexKey, reason: "index of \(index.chunks.count) chunks of \(index.chunkSize) bytes "
                + "for \(index.virtualSize) bytes; the point says \(disk.virtualSize) bytes")
        }
        self.target = disk.target
        self.size = index.virtualSize
        self.store = store
        self.index = index
        self.chunkSize = UInt64(index.chunkSize)
        self.cache = cache
        self.failures = failures
    }

    /// Fills `buffer` chunk by chunk; a read spanning several stored chunks decodes them on
    /// all cores at once. Throws the first chunk's failure (each is recorded in `failures`).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        guard buffer.count > 0 else { return }
        let first = Int(offset / chunkSize)
        let last = Int((offset + UInt64(buffer.count) - 1) / chunkSize)
        if first == last { return try copy(chunk: first, into: buffer, readOffset: offset) }
        let firstError = FirstError()
        // Each step writes its own disjoint slice of the buffer, which outlives the call.
        nonisolated(unsafe) let shared = buffer
        DispatchQueue.concurrentPerform(iterations: last - first + 1) { step in
            do {
                try copy(chunk: first + step, into: shared, readOffset: offset)
            } catch {
                firstError.record(error)
            }
        }
        if let error = firstError.error { throw error }
    }

    /// Copies the part of chunk `chunk` that the read `[readOffset, readOffset + buffer.count)` covers.
    private func copy(chunk: Int, into buffer: UnsafeMutableRawBufferPointer, readOffset: UInt64) throws {
        let start = UInt64(chunk) * chunkSize
        let length = min(chunkSize, size - start)
        let from = max(start, readOffset)
        let to = min(start + length, readOffset + UInt64(buffer.count))
        let destination = UnsafeMutableRawBufferPointer(rebasing: buffer[Int(from - readOffset)..<Int(to - readOffset)])
        let id = index.chunks[chunk]
        guard !id.isZero else {
            destination.initializeMemory(as: UInt8.self, repeating: 0)
            return
        }
        let data = try cache.data(for: id) { try load(id, start: start, length: length) }
        data.withUnsafeBytes { chunkBytes in
            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: chunkBytes[Int(from - start)..<Int(to - start)]))
        }
    }

    private func load(_ id: ChunkID, start: UInt64, length: UInt64) throws -> Data {
        do {
            let data = try store.readChunk(id)
            guard data.count == Int(length) else {
                throw StoreError.corrupt(key: id.hex, reason: "chunk holds \(data.count) bytes, the index expects \(length)")
            }
            return data
        } catch {
            failures.record("\(target) bytes \(start)-\(start + length - 1): chunk \(id.hex.prefix(16))…: \(error)")
            throw error
        }
    }

    /// Runs of zero and data chunks from `offset`, merged, covering at most `length` bytes.
    func extents(at offset: UInt64, length: UInt64) -> [NBDExtent]? {
        let end = min(size, offset + length)
        var extents: [NBDExtent] = []
        var position = offset
        while position < end {
            let chunk = Int(position / chunkSize)
            let next = min(end, UInt64(chunk + 1) * chunkSize)
            let isZero = index.chunks[chunk].isZero
            if let last = extents.last, last.isZero == isZero {
                extents[extents.count - 1].length += next - position
            } else {
                extents.append(NBDExtent(length: next - position, isZero: isZero))
            }
            position = next
        }
        return extents
    }
}

/// The lines describing reads the store could not serve, each once, in the order first seen.
final class ReadFailureLog: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: Set<String> = []
    private var ordered: [String] = []

    func record(_ line: String) {
        let line = line.split(whereSeparator: \.isNewline).joined(separator: " ")
        lock.withLock {
            if seen.insert(line).inserted { ordered.append(line) }
        }
    }

    var lines: [String] { lock.withLock { ordered } }
}

/// The first error among parallel steps.
private final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?

    func record(_ error: Error) {
        lock.withLock { if self.error == nil { self.error = error } }
    }
}
