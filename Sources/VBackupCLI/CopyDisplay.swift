import Foundation
import VBackupStore

/// `vbackup copy`'s progress on stderr: a chunk counter per disk on a terminal, one line per
/// finished point otherwise (so logs of scheduled copies show each point).
final class CopyDisplay: @unchecked Sendable {
    private let lock = NSLock()
    private let enabled: Bool
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var point = ""
    private var disk = ""
    private var total = 0
    private var done = 0
    private var lastDraw = Date.distantPast

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ event: CopyProgress) {
        guard enabled else { return }
        lock.withLock {
            switch event {
            case .pointStarted(let id, let vm, let number, let count):
                point = "[\(number)/\(count)] \(vm) \(id)"
            case .diskStarted(let target, let chunks):
                (disk, total, done) = (target, chunks, 0)
            case .chunksDone(let count):
                done += count
                guard isTerminal, Date().timeIntervalSince(lastDraw) > 0.1 else { return }
                lastDraw = Date()
                write("\r\u{1B}[K\(point) \(disk): \(done)/\(total) chunks")
            case .checkpointed(let chunks, let bytes):
                // Logs of scheduled copies show how far a killed run got.
                guard !isTerminal else { return }
                write("\(point): checkpoint, \(chunks) chunks (\(Human.bytes(UInt64(bytes)))) sent so far are kept\n")
            case .pointFinished(_, let outcome):
                let word = ["copied": "copied", "alreadyThere": "already there", "refused": "REFUSED", "failed": "FAILED"][outcome.rawValue]!
                write("\(isTerminal ? "\r\u{1B}[K" : "")\(point): \(word)\n")
            }
        }
    }

    static func printSummary(_ report: CopyReport) {
        print("\(report.copied.count) points copied, \(report.alreadyThere.count) already there, "
              + "\(report.refused.count) refused, \(report.failed.count) failed")
        print("sent \(report.chunksSent) chunks (\(Human.bytes(UInt64(report.bytesSent)))), "
              + "\(report.chunksDeduplicated) already in the target, \(report.zeroChunks) zero; "
              + "read \(Human.bytes(UInt64(report.bytesRead))) in \(String(format: "%.1f", report.seconds)) s "
              + "(\(Human.rate(UInt64(report.bytesSent), seconds: report.seconds)) sent)")
        for (side, requests) in [("source", report.sourceRequests), ("target", report.targetRequests)] {
            guard let requests else { continue }
            print("\(side) storage: \(requests.total) requests (\(requests.puts) PUT, \(requests.gets) GET, \(requests.lists) LIST)")
        }
        let locked = report.copied.compactMap(\.immutableUntil)
        if let until = locked.max() {
            print("\(locked.count) copied points are immutable (S3 Object Lock), the last until \(until.formatted(.iso8601))")
        }
        for point in report.refused { print("REFUSED \(point.id) (\(point.vm)): \(point.reason)") }
        for point in report.failed { print("FAILED \(point.id) (\(point.vm)): \(point.reason)") }
        if report.interrupted { print("interrupted: run the same copy again to resume") }
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
