import Foundation

/// Reply buffers reused across requests and connections. glibc serves allocations of 32 MiB
/// and more with a fresh mmap, so without reuse every large read would map, fault in (zeroing
/// 8,192 pages) and unmap its buffer: measured here, 32 MiB reads ran at a fifth of the rate of
/// 2 MiB reads. Buffers come in power-of-two payload classes (64 KiB up) plus room for a reply
/// header; at most `idleLimit` bytes wait unused.
final class BufferPool: @unchecked Sendable {
    /// Room in front of the payload for any reply header.
    static let headerRoom = 64
    static let smallestClass = 64 << 10

    struct Buffer {
        fileprivate let base: UnsafeMutableRawPointer
        fileprivate let payloadClass: Int

        /// The first `count` bytes.
        func bytes(_ count: Int) -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(start: base, count: count)
        }
    }

    private let idleLimit: Int
    private let lock = NSLock()
    private var idle: [Int: [UnsafeMutableRawPointer]] = [:]
    private var idleBytes = 0

    init(idleLimit: Int) {
        self.idleLimit = idleLimit
    }

    deinit {
        for pointers in idle.values { pointers.forEach { $0.deallocate() } }
    }

    /// A buffer of at least `headerRoom + payload` bytes.
    func take(payload: Int) -> Buffer {
        var payloadClass = Self.smallestClass
        while payloadClass < payload { payloadClass <<= 1 }
        let reused: UnsafeMutableRawPointer? = lock.withLock {
            guard let pointer = idle[payloadClass]?.popLast() else { return nil }
            idleBytes -= payloadClass
            return pointer
        }
        let base = reused ?? UnsafeMutableRawPointer.allocate(byteCount: payloadClass + Self.headerRoom, alignment: 64)
        return Buffer(base: base, payloadClass: payloadClass)
    }

    func give(_ buffer: Buffer) {
        let kept: Bool = lock.withLock {
            guard idleBytes + buffer.payloadClass <= idleLimit else { return false }
            idle[buffer.payloadClass, default: []].append(buffer.base)
            idleBytes += buffer.payloadClass
            return true
        }
        if !kept { buffer.base.deallocate() }
    }
}
