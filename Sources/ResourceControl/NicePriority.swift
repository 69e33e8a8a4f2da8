#if canImport(Glibc)
import Glibc
#endif

/// The fallback when no cgroup can be written (not root, a read-only cgroupfs, a container): every
/// thread of the process at nice 10 and I/O priority best-effort 7, the lowest best-effort level
/// (vzdump's default ionice is 7 too). Neither caps anything; both only yield to other work.
///
/// Threads are set one by one because Linux keeps both values per thread. Threads created later
/// inherit from the thread that creates them, so set this up early, before the worker threads exist.
struct NicePriority: CPUMechanism {
    static let niceness: Int32 = 10
    static let ioLevel: Int32 = 7

    let pid: Int32
    /// Why cgroups are not in use, for the words.
    let reason: String
    /// Each thread's values before the change, restored at detach.
    let previous: [Int32: (nice: Int32, ioPriority: Int32)]
    let failures: [ControlFileError]

    var mode: CPUControl.Mode { .nice(niceness: Self.niceness, ioClass: "best-effort \(Self.ioLevel)") }

    static func attach(pid: Int32, procRoot: String, reason: String) -> NicePriority {
        var previous: [Int32: (nice: Int32, ioPriority: Int32)] = [:]
        var failures: [ControlFileError] = []
        for thread in threads(of: pid, procRoot: procRoot) {
            guard let nice = ProcessPriority.nice(thread: thread), let io = ProcessPriority.ioPriority(thread: thread) else { continue }
            previous[thread] = (nice, io)
            do throws(ControlFileError) {
                try ProcessPriority.setNice(niceness, thread: thread)
                try ProcessPriority.setIOPriority(class: ProcessPriority.bestEffortClass, level: ioLevel, thread: thread)
            } catch {
                failures.append(error)
            }
        }
        return NicePriority(pid: pid, reason: reason, previous: previous, failures: failures)
    }

    /// The process's threads from /proc/PID/task; just the pid if that cannot be read.
    static func threads(of pid: Int32, procRoot: String) -> [Int32] {
        let listed = ControlFile.entries("\(procRoot)/\(pid)/task").compactMap { Int32($0) }.sorted()
        return listed.isEmpty ? [pid] : listed
    }

    func apply(_ limits: CPULimits) throws(ControlFileError) -> String {
        let set = failures.isEmpty
            ? "nice \(Self.niceness), io best-effort \(Self.ioLevel) on \(previous.count) thread(s)"
            : "nice/ionice partly failed: \(failures.map(\.description).joined(separator: "; "))"
        let unmet = limits.quotaMicroseconds == nil && limits.effectiveWeight == 100
            ? "" : "; \(limits.capInWords), weight \(limits.effectiveWeight) not applied (needs a cgroup)"
        return "\(set) (\(reason))\(unmet)"
    }

    /// Restores each thread's earlier values. Lowering a nice value needs root, so as another user
    /// the threads stay at nice 10 and the words say so.
    func detach() -> String {
        var failures: [String] = []
        for (thread, values) in previous.sorted(by: { $0.key < $1.key }) {
            do throws(ControlFileError) {
                try ProcessPriority.setNice(values.nice, thread: thread)
                try ProcessPriority.setRawIOPriority(values.ioPriority, thread: thread)
            } catch where error.errno == ESRCH {
                continue
            } catch {
                failures.append(error.description)
            }
        }
        return failures.isEmpty ? "restored nice and io priority" : "could not restore: \(failures.joined(separator: "; "))"
    }
}
