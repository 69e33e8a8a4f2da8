import Foundation

/// The 24-bit suffixes of one process's point ids: a random start, then one step per id.
final class PointIDSequence: @unchecked Sendable {
    static let shared = PointIDSequence()

    private let lock = NSLock()
    private var value = UInt32.random(in: 0..<0x100_0000)

    func next() -> UInt32 {
        lock.lock()
        defer { lock.unlock() }
        value = (value &+ 1) & 0xFF_FFFF
        return value
    }
}
