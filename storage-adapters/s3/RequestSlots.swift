import Foundation

/// A counting semaphore: at most `limit` requests of one adapter are in flight, whichever
/// threads start them. It also remembers the most that ever were, for tests and reports.
final class RequestSlots: @unchecked Sendable {
    private let condition = NSCondition()
    private let limit: Int
    private var inFlight = 0
    private var highWater = 0

    init(limit: Int) { self.limit = limit }

    /// Blocks until a slot is free, runs `body` holding it.
    func withSlot<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        while inFlight >= limit { condition.wait() }
        inFlight += 1
        highWater = max(highWater, inFlight)
        condition.unlock()
        defer {
            condition.lock()
            inFlight -= 1
            condition.signal()
            condition.unlock()
        }
        return try body()
    }

    /// The most requests that were ever in flight at once.
    var maximumInFlight: Int {
        condition.lock()
        defer { condition.unlock() }
        return highWater
    }
}
