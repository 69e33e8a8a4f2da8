import Foundation
import VBackupStore
import XCTest

/// What sealing costs the encode stage (id + zstd, + AES-GCM): the stage the backup engine runs
/// on its worker threads. Prints both rates; asserts only a loose bound, as the machine may be
/// busy (the target, under 10 %, is checked on a release build, see the README).
final class EncryptionThroughputTests: XCTestCase {
    func testSealingCostsLittleEncodeThroughput() throws {
        let store = try makeEncryptedStore(self, try StoreFixture(self))
        let chunks = (0..<8).map { pseudoRandomBytes(count: 256 << 10, seed: UInt64($0)) }
            + (0..<8).map { compressibleBytes(count: 256 << 10, seed: $0) }
        var plain = 0.0, sealed = 0.0
        for _ in 0..<3 {  // interleaved, best of three: load from other builds hits both alike
            plain = max(plain, rate(chunks, .plain))
            sealed = max(sealed, rate(chunks, store.chunkCodec))
        }
        print(String(format: "encode MiB/s (256 KiB chunks, 1 thread): plain %.0f, encrypted %.0f (%.1f %% slower)",
                     plain, sealed, (1 - sealed / plain) * 100))
        XCTAssertGreaterThan(sealed, plain * 0.75)
    }

    private func rate(_ chunks: [Data], _ codec: ChunkCodec) -> Double {
        let rounds = 96
        let start = Date()
        for round in 0..<rounds {
            _ = chunks[round % chunks.count].withUnsafeBytes { codec.encode($0) }
        }
        return Double(rounds) / 4 / Date().timeIntervalSince(start)
    }
}
