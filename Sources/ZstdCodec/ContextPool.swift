import CZstd
import Foundation

/// A lock-protected free list of zstd contexts.
///
/// A zstd context is not thread-safe and costs hundreds of KiB to set up, while chunk encoding
/// runs on several worker threads at once. Lending contexts from a pool gives each running call
/// its own context and reuses them across calls; the pool only grows to the peak concurrency.
final class ContextPool<Context>: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [Context] = []
    private let make: () -> Context

    init(make: @escaping () -> Context) {
        self.make = make
    }

    func withContext<R>(_ body: (Context) throws -> R) rethrows -> R {
        let context = take()
        defer { giveBack(context) }
        return try body(context)
    }

    private func take() -> Context {
        lock.lock()
        defer { lock.unlock() }
        return free.popLast() ?? make()
    }

    private func giveBack(_ context: Context) {
        lock.lock()
        defer { lock.unlock() }
        free.append(context)
    }
}

extension ContextPool where Context == OpaquePointer {
    /// Contexts live for the whole process: the pool is a global and never frees them.
    static var compression: ContextPool<OpaquePointer> { compressionPool }
    static var decompression: ContextPool<OpaquePointer> { decompressionPool }
}

private let compressionPool = ContextPool<OpaquePointer> {
    guard let context = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx: out of memory") }
    return context
}

private let decompressionPool = ContextPool<OpaquePointer> {
    guard let context = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx: out of memory") }
    return context
}
