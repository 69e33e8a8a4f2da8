import Foundation

/// Runs `body(0..<count)` on `threads` threads, each taking the next index as it finishes one,
/// so memory holds at most `threads` items in flight. The first error stops every thread from
/// taking more work and is rethrown once all have returned.
///
/// Threads rather than `concurrentPerform`: the work is mostly waiting on storage, and the
/// useful parallelism is the adapter's (`preferredConcurrency`), not the core count.
enum ParallelLoop {
    static func run(count: Int, threads: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
        let state = LoopState()
        let group = DispatchGroup()
        for _ in 0..<max(1, min(threads, count)) {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                while let index = state.next(below: count) {
                    do {
                        try body(index)
                    } catch {
                        state.fail(error)
                    }
                }
            }
        }
        group.wait()
        if let error = state.error { throw error }
    }
}

private final class LoopState: @unchecked Sendable {
    private let lock = NSLock()
    private var position = 0
    private var firstError: Error?

    var error: Error? { lock.withLock { firstError } }

    func next(below count: Int) -> Int? {
        lock.withLock {
            guard firstError == nil, position < count else { return nil }
            defer { position += 1 }
            return position
        }
    }

    func fail(_ error: Error) {
        lock.withLock { if firstError == nil { firstError = error } }
    }
}
