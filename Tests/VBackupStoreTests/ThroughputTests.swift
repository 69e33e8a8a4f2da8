import Foundation
import VBackupStore
import XCTest

/// Measures encode throughput (SHA-256 + zstd level 1) on mixed data; prints MB/s so the
/// number is visible in test logs. Asserts only a very low floor, to catch gross regressions.
final class ThroughputTests: XCTestCase {
    func testEncodeThroughputOnSeveralThreads() {
        let chunks = (0..<8).map { index in
            index % 2 == 0 ? compressibleBytes(count: 1 << 20, seed: index) : pseudoRandomBytes(count: 1 << 20, seed: UInt64(index))
        }
        let rounds = 64
        let start = Date()
        DispatchQueue.concurrentPerform(iterations: rounds) { index in
            _ = chunks[index % chunks.count].withUnsafeBytes { ChunkCodec.encode($0) }
        }
        let seconds = Date().timeIntervalSince(start)
        let megabytesPerSecond = Double(rounds) / seconds
        print("encode throughput: \(Int(megabytesPerSecond)) MiB/s on \(ProcessInfo.processInfo.activeProcessorCount) cores")
        XCTAssertGreaterThan(megabytesPerSecond, 20)
    }
}
