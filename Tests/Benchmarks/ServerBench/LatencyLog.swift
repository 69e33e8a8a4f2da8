import Foundation

/// Latencies of one kind of request, kept whole (a run is at most a few hundred thousand
/// requests) so the percentiles are exact rather than bucketed.
final class LatencyLog: @unchecked Sendable {
    private let lock = NSLock()
    private var samples: [String: [Double]] = [:]
    private var failures: [String: Int] = [:]
    private var firstFailure: [String: String] = [:]

    func record(_ kind: String, seconds: Double) {
        lock.withLock { samples[kind, default: []].append(seconds) }
    }

    func fail(_ kind: String, _ why: String) {
        lock.withLock {
            failures[kind, default: 0] += 1
            if firstFailure[kind] == nil { firstFailure[kind] = why }
        }
    }

    func reset() {
        lock.withLock {
            samples = [:]
            failures = [:]
            firstFailure = [:]
        }
    }

    struct Row {
        var kind: String
        var count: Int
        var failed: Int
        var perSecond: Double
        var p50: Double, p90: Double, p99: Double, max: Double
        var firstFailure: String?
    }

    func rows(over seconds: Double) -> [Row] {
        lock.withLock {
            Set(samples.keys).union(failures.keys).sorted().map { kind in
                let sorted = (samples[kind] ?? []).sorted()
                func at(_ q: Double) -> Double {
                    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)]
                }
                return Row(kind: kind, count: sorted.count, failed: failures[kind] ?? 0,
                           perSecond: Double(sorted.count) / seconds,
                           p50: at(0.50), p90: at(0.90), p99: at(0.99), max: sorted.last ?? 0,
                           firstFailure: firstFailure[kind])
            }
        }
    }
}
