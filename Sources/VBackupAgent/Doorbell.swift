import Foundation

/// Wakes a waiting loop early: rings coalesce (ten rings while the loop works wake it once),
/// and a ring before the wait is not lost.
final class Doorbell: @unchecked Sendable {
    private let condition = NSCondition()
    private var rung = false

    func ring() {
        condition.withLock {
            rung = true
            condition.broadcast()
        }
    }

    /// Waits until rung or `seconds` passed; returns whether it was rung (and clears the ring).
    @discardableResult
    func wait(seconds: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(max(0, seconds))
        return condition.withLock {
            while !rung && condition.wait(until: deadline) {}
            defer { rung = false }
            return rung
        }
    }
}
