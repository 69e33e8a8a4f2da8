import Foundation

/// A counting semaphore for async code: at most `limit` requests of one adapter are in flight,
/// whichever threads and tasks start them. Waiters are served in arrival order.
final class RequestSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var inFlight = 0
    private var highWater = 0

    init(limit: Int) { free = limit }

    func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if free > 0 {
                free -= 1
                taken()
                lock.unlock()
                continuation.resume()
            } else {
                waiting.append(continuation)
                lock.unlock()
            }
        }
    }

    func release() {
        lock.lock()
        inFlight -= 1
        if waiting.isEmpty {
            free += 1
            lock.unlock()
        } else {
            let next = waiting.removeFirst()
            taken()
            lock.unlock()
            next.resume()
        }
    }

    /// The most requests that were ever in flight at once.
    var maximumInFlight: Int { lock.withLock { highWater } }

    private func taken() {
        inFlight += 1
        highWater = max(highWater, inFlight)
    }
}
