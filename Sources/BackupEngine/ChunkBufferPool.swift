import Foundation

/// Page-aligned chunk buffers, reused across a disk's chunks.
///
/// A fresh 4 MiB buffer per chunk costs the kernel a page fault per 4 KiB page on first touch;
/// over a backup that was about a third of all the process's faults, and most of its system
/// time. The pipeline holds at most a queue's worth plus one per thread, so keeping that many
/// buffers bounds memory as before. Thread-safe.
final class ChunkBufferPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [UnsafeMutableRawBufferPointer] = []
    private let limit: Int

    /// Keeps at most `limit` idle buffers; any beyond are released when given back.
    init(limit: Int) {
        self.limit = max(1, limit)
    }

    deinit {
        for buffer in free { buffer.deallocate() }
    }

    /// A buffer of exactly `byteCount` bytes, with unspecified contents.
    func take(byteCount: Int) -> UnsafeMutableRawBufferPointer {
        let reused: UnsafeMutableRawBufferPointer? = lock.withLock {
            guard let index = free.lastIndex(where: { $0.count == byteCount }) else { return nil }
            return free.remove(at: index)
        }
        return reused ?? UnsafeMutableRawBufferPointer.allocate(byteCount: byteCount, alignment: 4096)
    }

    /// Returns a buffer from `take` for reuse.
    func give(_ buffer: UnsafeMutableRawBufferPointer) {
        let kept: Bool = lock.withLock {
            guard free.count < limit else { return false }
            free.append(buffer)
            return true
        }
        if !kept { buffer.deallocate() }
    }
}
