import Foundation

/// Bounds the bytes of read buffers held at once across every connection of a server, so many
/// clients asking for 32 MiB each cannot run the host out of memory. A request larger than the
/// whole budget still runs, alone.
final class ReadBudget: @unchecked Sendable {
    private let limit: Int
    private var inUse = 0
    private let condition = NSCondition()

    init(limit: Int) {
        self.limit = limit
    }

    func acquire(_ bytes: Int) {
        condition.lock()
        defer { condition.unlock() }
        while inUse > 0 && inUse + bytes > limit { condition.wait() }
        inUse += bytes
    }

    func release(_ bytes: Int) {
        condition.lock()
        defer { condition.unlock() }
        inUse -= bytes
        condition.broadcast()
    }
}
