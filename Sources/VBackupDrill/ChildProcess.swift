import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A program the drill runs (the user's check script, `qemu-img`): in a process group of its
/// own, so a timeout or Ctrl-C ends it and everything it started, with its output in a file.
struct ChildProcess {
    struct Outcome {
        /// The exit status, or 128 + the signal that ended it.
        var status: Int32
        /// It was stopped because the deadline passed or the drill was cancelled.
        var stopped: Bool
    }

    var executable: String
    var arguments: [String] = []
    /// Added to (and overriding) this process's environment.
    var environment: [String: String] = [:]
    /// Standard output and error go here (created or truncated); /dev/null when nil.
    var outputFile: String?

    /// Runs to completion, or until `deadline` passes or `isCancelled` says so: then the group
    /// gets SIGTERM, and SIGKILL two seconds later.
    func run(deadline: ContinuousClock.Instant, isCancelled: () -> Bool) throws -> Outcome {
        let pid = try spawn()
        var stopping: ContinuousClock.Instant?
        while true {
            var status: Int32 = 0
            let done = waitpid(pid, &status, WNOHANG)
            if done == pid {
                let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                return Outcome(status: code, stopped: stopping != nil)
            }
            if done < 0 && errno != EINTR { throw DrillError.tool("waitpid(\(executable)) failed: \(String(cString: strerror(errno)))") }
            let now = ContinuousClock.now
            if let since = stopping {
                if now - since > .seconds(2) { kill(-pid, SIGKILL) }
            } else if now >= deadline || isCancelled() {
                stopping = now
                kill(-pid, SIGTERM)
            }
            usleep(20_000)
        }
    }

    private func spawn() throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw DrillError.tool("cannot run \(executable): \(String(cString: strerror(result)))") }
        return pid
    }

    /// The last non-empty line of a file (a script's verdict), at most 300 characters.
    static func lastLine(of path: String) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "" }
        let text = String(decoding: data.suffix(64 * 1024), as: UTF8.self)
        let line = text.split(whereSeparator: \.isNewline).last { !$0.allSatisfy(\.isWhitespace) } ?? ""
        return String(line.trimmingCharacters(in: .whitespaces).prefix(300))
    }
}
