#if canImport(Glibc)
import Glibc
#endif
import VBackupCLI

#if canImport(Glibc)
// The pipeline allocates and frees 1 MiB buffers on several threads. glibc's default grows its
// mmap threshold after the first free and keeps such buffers in per-thread arenas, which
// inflates resident memory for no gain; fixed thresholds and two arenas keep RSS near the
// pipeline's real working set.
mallopt(M_MMAP_THRESHOLD, 256 * 1024)
mallopt(M_ARENA_MAX, 2)
#endif

VBackupCommand.runMain()
