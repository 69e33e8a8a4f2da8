import Foundation
@testable import VBackupStore
import XCTest

/// What encryption costs: the encode stage (id + zstd, + AES-GCM), which the backup engine runs
/// on its worker threads, and unlocking a key with the standard scrypt costs. Prints the numbers;
/// asserts only loose bounds, as the machine may be busy (the target, under 10 % of backup
/// throughput, is measured on a release build with Tests/Benchmarks/encryption-cost.sh).
final class EncryptionThroughputTests: XCTestCase {
    func testSealingCostsLittleEncodeThroughput() throws {
        let store = try makeEncryptedStore(self, try StoreFixture(self))
        let random = (0..<8).map { pseudoRandomBytes(count: 256 << 10, seed: UInt64($0)) }
        let text = (0..<8).map { compressibleBytes(count: 256 << 10, seed: $0) }
        var report: [String] = []
        var ratios: [Double] = []
        for (label, chunks) in [("random", random), ("text", text), ("mixed", random + text)] {
            var plain = 0.0, sealed = 0.0
            for _ in 0..<3 {  // interleaved, best of three: load from other builds hits both alike
                plain = max(plain, rate(chunks, .plain))
                sealed = max(sealed, rate(chunks, store.chunkCodec))
            }
            report.append(String(format: "%@ %.0f → %.0f (%.1f %%)", label, plain, sealed, (sealed / plain - 1) * 100))
            ratios.append(sealed / plain)
        }
        print("encode MiB/s, 256 KiB chunks, 1 thread, plain → encrypted: " + report.joined(separator: ", "))
        XCTAssertGreaterThan(ratios[2], 0.75)
    }

    func testUnlockingWithTheStandardCostsTakesAFractionOfASecond() throws {
        let file = try KeyFile.seal(MasterKey.generate(), storeID: "s", passphrase: "p", parameters: .standard)
        let start = Date()
        XCTAssertNotNil(try file.open(passphrase: "p", name: "k"))
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "unlock with scrypt N=2^16 r=8 p=1: %.0f ms", seconds * 1000))
        XCTAssertLessThan(seconds, 3)
    }

    private func rate(_ chunks: [Data], _ codec: ChunkCodec) -> Double {
        let rounds = 64
        let start = Date()
        for round in 0..<rounds {
            _ = chunks[round % chunks.count].withUnsafeBytes { codec.encode($0) }
        }
        return Double(rounds) / 4 / Date().timeIntervalSince(start)
    }
}
