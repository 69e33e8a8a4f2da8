import BackupEngine
import Foundation
import ResourceControl

/// A job while it runs: its journal record, its share of the bandwidth, and the progress the
/// engine reports (from the job's reader thread; read by the agent's tick for status).
final class RunningJob: ProgressSink, @unchecked Sendable {
    private let lock = NSLock()
    private var _record: JobRecord
    private var cancelReason: String?
    private var diskTotals: [String: UInt64] = [:]
    private var done: UInt64 = 0
    private var currentDisk: String?
    private var notes: [String] = []
    let bandwidth: JobBandwidth

    init(record: JobRecord, bandwidth: JobBandwidth) {
        _record = record
        self.bandwidth = bandwidth
    }

    var record: JobRecord { lock.withLock { _record } }

    func update(_ change: (inout JobRecord) -> Void) -> JobRecord {
        lock.withLock {
            change(&_record)
            return _record
        }
    }

    /// Asks the engine to stop at its next read; the reason ends up in the journal.
    func cancel(_ reason: String) { lock.withLock { if cancelReason == nil { cancelReason = reason } } }

    var isCancelled: Bool { lock.withLock { cancelReason != nil } }
    var cancellation: String? { lock.withLock { cancelReason } }

    struct Progress: Codable, Sendable, Equatable {
        var disk: String?
        /// Logical bytes of the disks seen so far (zero and unchanged ranges count as done).
        var bytesDone: UInt64
        var bytesTotal: UInt64
        /// Bytes actually read from the disks, and the smoothed read rate.
        var bytesRead: UInt64
        var rate: Double
    }

    var progress: Progress {
        lock.withLock {
            Progress(disk: currentDisk, bytesDone: done, bytesTotal: diskTotals.values.reduce(0, +),
                     bytesRead: bandwidth.bytes, rate: bandwidth.measuredRate)
        }
    }

    var remarks: [String] { lock.withLock { notes } }

    // MARK: ProgressSink (called by the engine)

    func diskStarted(_ target: String, total: UInt64) {
        lock.withLock {
            diskTotals[target] = total
            currentDisk = target
        }
    }

    func advanced(_ bytes: UInt64) { lock.withLock { done += bytes } }

    func diskFinished(_ target: String) { lock.withLock { currentDisk = nil } }

    func note(_ message: String) { lock.withLock { notes.append(message) } }
}

extension JobBandwidth: ReadGate {}
