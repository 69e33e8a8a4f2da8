#if canImport(Glibc)
import Glibc
#endif

/// Nice values and I/O priorities of single threads: the fallback when no cgroup can be written.
/// Both are per thread on Linux (`setpriority(PRIO_PROCESS, 0, …)` changes only the calling
/// thread), so callers apply them to every thread in /proc/PID/task.
enum ProcessPriority {
    /// The I/O scheduling classes of ioprio_set(2).
    static let bestEffortClass: Int32 = 2

    static func setNice(_ value: Int32, thread: Int32) throws(ControlFileError) {
        try ControlFile.check("setpriority \(value) for", "thread \(thread)") {
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(thread), value)
        }
    }

    /// The thread's nice value, or nil if it is gone (getpriority's -1 is a valid nice value, so
    /// errno tells failure apart).
    static func nice(thread: Int32) -> Int32? {
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(thread))
        return errno == 0 ? value : nil
    }

    /// ioprio_set(IOPRIO_WHO_PROCESS, thread, IOPRIO_PRIO_VALUE(class, level)).
    static func setIOPriority(class ioClass: Int32, level: Int32, thread: Int32) throws(ControlFileError) {
        try setRawIOPriority((ioClass << 13) | level, thread: thread)
    }

    static func setRawIOPriority(_ value: Int32, thread: Int32) throws(ControlFileError) {
        try ControlFile.check("ioprio_set \(value >> 13)/\(value & 0x1fff) for", "thread \(thread)") {
            ioprioSyscall(ioprioSetNumber, whoProcess, thread, value)
        }
    }

    /// The raw ioprio value (class << 13 | level), or nil if the thread is gone.
    static func ioPriority(thread: Int32) -> Int32? {
        let value = ioprioSyscall(ioprioGetNumber, whoProcess, thread, 0)
        return value >= 0 ? Int32(value) : nil
    }

    private static let whoProcess: Int32 = 1  // IOPRIO_WHO_PROCESS

    #if arch(x86_64)
    private static let ioprioSetNumber = 251, ioprioGetNumber = 252
    #elseif arch(arm64)
    private static let ioprioSetNumber = 30, ioprioGetNumber = 31
    #endif

    /// glibc's `syscall`, called through a fixed-argument pointer: Swift cannot call C variadic
    /// functions, glibc has no ioprio wrapper, and this module may depend on nothing but Glibc.
    /// glibc implements `syscall` in assembly that only moves registers, so the fixed-argument
    /// call is sound on x86_64 and arm64.
    private static let ioprioSyscall: @convention(c) (Int, Int32, Int32, Int32) -> Int = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syscall") else {
            fatalError("glibc without syscall(2)")
        }
        return unsafeBitCast(symbol, to: (@convention(c) (Int, Int32, Int32, Int32) -> Int).self)
    }()
}
