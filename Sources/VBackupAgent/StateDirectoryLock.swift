import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One agent per state directory: an exclusive `flock` on `agent.lock` (the kernel drops it
/// when the process dies, so a crash never leaves a stale lock) and the agent's pid in
/// `agent.pid`, which `vbackup agent reload` signals.
final class StateDirectoryLock {
    static let pidFile = "agent.pid"
    private var fd: Int32

    init(directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("agent.lock").path
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw AgentError.invalidArgument("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            let holder = Self.pid(in: directory).map { " (pid \($0))" } ?? ""
            throw AgentError.invalidArgument("another agent\(holder) already runs with state directory \(directory.path)")
        }
        try Data("\(getpid())\n".utf8).write(to: directory.appendingPathComponent(Self.pidFile))
    }

    deinit { release() }

    /// Lets the next agent start (the agent calls it when its loop has ended).
    func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    /// The pid of the agent that runs (or last ran) with this state directory.
    static func pid(in directory: URL) -> Int32? {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(pidFile).path) else { return nil }
        return Int32(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Whether an agent holds the lock now (tried without taking it for long).
    static func isHeld(in directory: URL) -> Bool {
        let fd = open(directory.appendingPathComponent("agent.lock").path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }
}

/// Finding the agent of a state directory from another process (`status`, `agent reload`).
public enum AgentProcess {
    public static func pid(stateDirectory: URL) -> Int32? { StateDirectoryLock.pid(in: stateDirectory) }

    public static func isRunning(stateDirectory: URL) -> Bool { StateDirectoryLock.isHeld(in: stateDirectory) }
}
