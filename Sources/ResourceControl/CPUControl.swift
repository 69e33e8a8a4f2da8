import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Holds the agent's CPU use down with the strongest mechanism the host allows and says which one
/// it got: a cgroup v2 group (`cpu.max`, `cpu.weight`), a cgroup v1 group (`cpu.cfs_quota_us`,
/// `cpu.shares`, plus a low blkio weight), or, when no cgroup can be written, nice 10 and ionice
/// best-effort 7, which cap nothing and only yield.
///
/// `attach` moves the whole process (every thread: the pid goes into `cgroup.procs`), `apply` may be
/// called again whenever the policy changes, and `detach` moves the process back and removes the
/// group. Thread-safe.
public final class CPUControl: @unchecked Sendable, CustomStringConvertible {
    public enum Mode: Codable, Sendable, Equatable, CustomStringConvertible {
        case cgroupV2(path: String)
        case cgroupV1(path: String)
        case nice(niceness: Int32, ioClass: String)

        public var description: String {
            switch self {
            case .cgroupV2(let path): return "cgroup v2 \(path)"
            case .cgroupV1(let path): return "cgroup v1 \(path)"
            case .nice(let niceness, let ioClass): return "nice \(niceness), io \(ioClass)"
            }
        }
    }

    private let mechanism: any CPUMechanism
    private let lock = NSLock()
    private var current: String
    private var error: ControlFileError?
    private var detached = false
    /// Why no cgroup is in use (the error of the attempt); nil when one is.
    public let fallbackReason: String?

    private init(_ mechanism: any CPUMechanism, fallbackReason: String?) {
        self.mechanism = mechanism
        self.fallbackReason = fallbackReason
        current = ""
        _ = apply(CPULimits())
    }

    /// Moves this process into its own group `name` (or falls back to nice/ionice).
    public static func attach(name: String = "vbackup-agent", cgroupRoot: String = "/sys/fs/cgroup") -> CPUControl {
        attach(pid: getpid(), name: name, cgroupRoot: cgroupRoot)
    }

    /// Moves process `pid` into its own group `name`. `procRoot` is where /proc is, so tests can
    /// describe a process's cgroup membership with a fake tree.
    public static func attach(pid: Int32, name: String = "vbackup-agent", cgroupRoot: String = "/sys/fs/cgroup", procRoot: String = "/proc") -> CPUControl {
        let reason: String
        do throws(ControlFileError) {
            switch CgroupHierarchy.detect(cgroupRoot: cgroupRoot, procRoot: procRoot, pid: pid) {
            case .unified(let root, let current):
                return CPUControl(try CgroupV2Group.attach(pid: pid, name: name, root: root, current: current), fallbackReason: nil)
            case .legacy(let cpu, let blkio):
                return CPUControl(try CgroupV1Group.attach(pid: pid, name: name, cpu: cpu, blkio: blkio), fallbackReason: nil)
            case .unavailable(let why):
                reason = why
            }
        } catch {
            reason = "no cgroup: \(error)"
        }
        return CPUControl(NicePriority.attach(pid: pid, procRoot: procRoot, reason: reason), fallbackReason: reason)
    }

    /// Puts `limits` in force and returns what is now in force, in words; a failed write leaves
    /// the earlier limits and is reported in the words and in `lastError`.
    @discardableResult
    public func apply(_ limits: CPULimits) -> String {
        lock.withLock {
            guard !detached else { return "detached: \(mode) no longer in use" }
            do throws(ControlFileError) {
                current = try mechanism.apply(limits)
                error = nil
                return current
            } catch {
                self.error = error
                return "\(mode): could not apply \(limits.capInWords), weight \(limits.effectiveWeight): \(error)"
            }
        }
    }

    public var mode: Mode { mechanism.mode }

    /// The last limits put in force, in words.
    public var description: String { lock.withLock { current } }

    /// The error of the last `apply`, nil if it succeeded.
    public var lastError: ControlFileError? { lock.withLock { error } }

    /// Moves the process back to the group it came from and removes its group (or restores its
    /// priorities); returns what was done, in words. Later `apply` calls do nothing.
    @discardableResult
    public func detach() -> String {
        lock.withLock {
            guard !detached else { return "already detached" }
            detached = true
            return mechanism.detach()
        }
    }
}
