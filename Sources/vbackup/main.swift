#if canImport(Glibc)
import Glibc
#endif
import VBackupCLI

#if canImport(Glibc)
/// The pipeline allocates and frees 1 MiB buffers on several threads. glibc's default raises its
/// mmap threshold after the first such free and then keeps the buffers in per-thread arenas,
/// which inflates resident memory for no gain; a fixed threshold and two arenas keep RSS near
/// the pipeline's real working set. (`mallopt` is not in Swift's Glibc module, hence dlsym.)
private func tuneMalloc() {
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
    let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
    _ = mallopt(-3, 256 * 1024)   // M_MMAP_THRESHOLD
    _ = mallopt(-8, 2)            // M_ARENA_MAX
}
tuneMalloc()
#endif

VBackupCommand.runMain()
