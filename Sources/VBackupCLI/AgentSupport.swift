import Foundation
import Logging
import Synchronization
import VBackupAgent

/// Signals to a running agent, found through its state directory.
enum AgentControl {
    static func signal(_ signal: Int32, stateDirectory: URL) throws {
        guard let pid = AgentProcess.pid(stateDirectory: stateDirectory), AgentProcess.isRunning(stateDirectory: stateDirectory) else {
            throw AgentError.notRunning("no agent runs with state directory \(stateDirectory.path)")
        }
        guard kill(pid, signal) == 0 else {
            throw AgentError.notRunning("cannot signal the agent (pid \(pid)): \(String(cString: strerror(errno)))")
        }
    }
}

/// SIGTERM and SIGINT stop the agent gracefully (a second one exits at once); SIGHUP reloads
/// the policies; SIGUSR1 wakes it (a run request is waiting).
enum AgentSignals {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
    private static let stopping = Atomic<Bool>(false)

    static func install(_ agent: Agent) {
        let queue = DispatchQueue(label: "vbackup.agent.signals")
        let stop = {
            if stopping.exchange(true, ordering: .relaxed) { _exit(130) }
            agent.stop()
        }
        let actions: [(Int32, () -> Void)] = [
            (SIGTERM, stop),
            (SIGINT, stop),
            (SIGHUP, { agent.reload() }),
            (SIGUSR1, { agent.poke() }),
        ]
        for (number, action) in actions {
            Foundation.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler(handler: action)
            source.resume()
            sources.append(source)
        }
    }
}

/// swift-log to stderr, one line per event with its metadata as key=value pairs.
enum AgentLogging {
    static func logger(level: String) throws -> Logger {
        guard let parsed = Logger.Level(rawValue: level) else {
            throw AgentError.invalidArgument("unknown log level '\(level)' (trace, debug, info, notice, warning, error, critical)")
        }
        var logger = Logger(label: "vbackup.agent") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = parsed
        return logger
    }
}
