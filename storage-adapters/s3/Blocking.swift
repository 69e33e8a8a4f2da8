import Foundation

/// Runs async work to completion on the calling thread. The adapter protocol is synchronous and
/// its callers are the store's own threads (never an event loop, never a task of the
/// cooperative pool), so blocking them while the request runs on NIO is what they expect.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let outcome = Outcome<T>()
        Task {
            do { outcome.set(.success(try await body())) } catch { outcome.set(.failure(error)) }
            done.signal()
        }
        done.wait()
        return try outcome.get()
    }
}

/// The result handed from the task to the waiting thread.
private final class Outcome<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<T, any Error>?

    func set(_ value: Result<T, any Error>) { lock.withLock { result = value } }

    func get() throws -> T {
        guard let result = lock.withLock({ result }) else { preconditionFailure("read before the task finished") }
        return try result.get()
    }
}
