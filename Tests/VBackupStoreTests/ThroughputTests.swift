import Foundation
import VBackupStore
import XCTest

/// Measures encode throughput (SHA-256 + zstd level 1) on 1 MiB chunks and prints MiB/s so the
/// numbers show in test logs. Asserts only a very low floor, to catch gross regressions.
final class ThroughputTests: XCTestCase {
    func testEncodeThroughput() {
        let random = (0..<4).map { pseudoRandomBytes(count: 1 << 20, seed: UInt64($0)) }
        let text = (0..<4).map { compressibleBytes(count: 1 << 20, seed: $0) }
        let oneThreadRandom = measure(random, rounds: 32, threads: 1)
        let oneThreadText = measure(text, rounds: 32, threads: 1)
        let allThreadsMixed = measure(random + text, rounds: 64, threads: ProcessInfo.processInfo.activeProcessorCount)
        print("encode MiB/s: 1 thread random \(oneThreadRandom), 1 thread text \(oneThreadText),"
              + " \(ProcessInfo.processInfo.activeProcessorCount) threads mixed \(allThreadsMixed)")
        XCTAssertGreaterThan(allThreadsMixed, 20)
    }

    private func measure(_ chunks: [Data], rounds: Int, threads: Int) -> Int {
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for round in stride(from: thread, to: rounds, by: threads) {
                _ = chunks[round % chunks.count].withUnsafeBytes { ChunkCodec.plain.encode($0) }
            }
        }
        return Int(Double(rounds) / Date().timeIntervalSince(start))
    }
}
