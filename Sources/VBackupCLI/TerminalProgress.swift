import BackupEngine
import Foundation

/// A progress bar on stderr when it is a terminal; notes always go to stderr.
final class TerminalProgress: ProgressSink, @unchecked Sendable {
    private let lock = NSLock()
    private let drawBar = isatty(STDERR_FILENO) == 1
    private var target = ""
    private var total: UInt64 = 1
    private var done: UInt64 = 0
    private var started = Date()
    private var lastDraw = Date.distantPast

    func diskStarted(_ target: String, total: UInt64) {
        lock.withLock {
            self.target = target
            self.total = max(total, 1)
            done = 0
            started = Date()
        }
    }

    func advanced(_ bytes: UInt64) {
        lock.withLock {
            done += bytes
            guard drawBar, Date().timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = Date()
            draw()
        }
    }

    func diskFinished(_ target: String) {
        lock.withLock {
            guard drawBar else { return }
            done = total
            draw()
            FileHandle.standardError.write(Data("\n".utf8))
        }
    }

    func note(_ message: String) {
        lock.withLock { FileHandle.standardError.write(Data("\(drawBar ? "\r\u{1B}[K" : "")note: \(message)\n".utf8)) }
    }

    private func draw() {
        let fraction = Double(done) / Double(total)
        let filled = Int(fraction * 30)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
        let rate = Human.rate(done, seconds: Date().timeIntervalSince(started))
        let line = String(format: "\r\u{1B}[K%@ [%@] %3d%% %@", target, bar, Int(fraction * 100), rate)
        FileHandle.standardError.write(Data(line.utf8))
    }
}
