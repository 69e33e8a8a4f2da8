import Foundation
import VBackupStore

/// GC and verify progress on stderr: a counter per phase on a terminal, one line per finished
/// phase otherwise (so logs of scheduled runs show where the time went).
final class PhaseProgress: MaintenanceProgress, @unchecked Sendable {
    private let lock = NSLock()
    private let command: String
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var name = ""
    private var total = 0
    private var done = 0
    private var started = Date()
    private var lastDraw = Date.distantPast

    init(command: String) { self.command = command }

    func phase(_ name: String, total: Int) {
        lock.withLock {
            finishPhase()
            self.name = name
            self.total = total
            done = 0
            started = Date()
        }
    }

    func advanced(by steps: Int) {
        lock.withLock {
            done += steps
            guard isTerminal, Date().timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = Date()
            write("\r\u{1B}[K\(command): \(name) \(done)/\(total)")
        }
    }

    /// Ends the last phase's line.
    func finish() { lock.withLock { finishPhase() } }

    private func finishPhase() {
        guard !name.isEmpty else { return }
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        write("\(isTerminal ? "\r\u{1B}[K" : "")\(command): \(name) \(done)/\(total) in \(seconds) s\n")
        name = ""
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
