import Foundation
import VBackupStore
import XCTest
import ZstdCodec

final class ZstdTests: XCTestCase {
    func testRoundTripShrinksCompressibleData() throws {
        let original = compressibleBytes(count: 1 << 20, seed: 1)
        let compressed = Zstd.compress(original)
        XCTAssertLessThan(compressed.count, original.count / 10)
        XCTAssertEqual(try Zstd.decompress(compressed, rawLength: original.count), original)
    }

    func testWrongRawLengthAndGarbageAreErrors() throws {
        let compressed = Zstd.compress(compressibleBytes(count: 1000, seed: 2))
        XCTAssertThrowsError(try Zstd.decompress(compressed, rawLength: 999))
        XCTAssertThrowsError(try Zstd.decompress(Data([1, 2, 3, 4, 5]), rawLength: 10)) { error in
            XCTAssertNotEqual((error as? ZstdError)?.code, 0, "library errors carry zstd's code")
        }
    }

    func testIsUsableFromManyThreadsAtOnce() {
        let inputs = (0..<32).map { compressibleBytes(count: 200_000, seed: $0) }
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: inputs.count) { index in
            let back = try? Zstd.decompress(Zstd.compress(inputs[index]), rawLength: inputs[index].count)
            if back != inputs[index] { failures.increment() }
        }
        XCTAssertEqual(failures.value, 0)
    }
}

final class ChunkCodecTests: XCTestCase {
    func testRoundTripOfCompressibleChunk() throws {
        let data = compressibleBytes(count: 1 << 20, seed: 3)
        let chunk = encode(data)
        XCTAssertEqual(chunk.rawLength, data.count)
        XCTAssertLessThan(chunk.blob.count, data.count / 10)
        XCTAssertEqual(chunk.id, ChunkID(hex: "\(chunk.id.hex)"))
        XCTAssertEqual(try ChunkCodec.plain.decode(chunk.blob, expecting: chunk.id), data)
    }

    func testIncompressibleChunkIsStoredRaw() throws {
        let data = pseudoRandomBytes(count: 64 << 10, seed: 4)
        let chunk = encode(data)
        XCTAssertEqual(chunk.blob.count, data.count + 8, "8-byte header + the raw bytes")
        XCTAssertEqual(chunk.blob[chunk.blob.startIndex + 3], 0, "codec byte 0 = raw")
        XCTAssertEqual(try ChunkCodec.plain.decode(chunk.blob, expecting: chunk.id), data)
    }

    func testAnyFlippedByteIsDetectedAsCorruption() throws {
        for data in [pseudoRandomBytes(count: 4096, seed: 5), compressibleBytes(count: 4096, seed: 5)] {
            let chunk = encode(data)
            for position in [0, 3, 5, chunk.blob.count / 2, chunk.blob.count - 1] {
                var blob = chunk.blob
                blob[blob.startIndex + position] ^= 0x40
                XCTAssertThrowsError(try ChunkCodec.plain.decode(blob, expecting: chunk.id), "byte \(position)") { error in
                    guard case StoreError.corrupt = error else { return XCTFail("\(error)") }
                }
            }
        }
    }

    func testDecodingUnderTheWrongIDIsCorruption() {
        let chunk = encode(Data("a".utf8))
        let other = encode(Data("b".utf8))
        XCTAssertThrowsError(try ChunkCodec.plain.decode(chunk.blob, expecting: other.id))
    }

    func testIDIsTheSHA256OfTheRawBytes() {
        // SHA-256("abc"), FIPS 180-2 test vector.
        XCTAssertEqual(encode(Data("abc".utf8)).id.hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testIsAllZero() {
        XCTAssertTrue(Data(count: 1 << 20).withUnsafeBytes(ChunkCodec.isAllZero))
        XCTAssertTrue(Data().withUnsafeBytes(ChunkCodec.isAllZero))
        for position in [0, 1, 4095, (1 << 20) - 1] {
            var data = Data(count: 1 << 20)
            data[position] = 1
            XCTAssertFalse(data.withUnsafeBytes(ChunkCodec.isAllZero), "non-zero byte at \(position)")
        }
    }
}

final class ChunkIDTests: XCTestCase {
    func testHexRoundTripAndZeroMarker() {
        let bytes = (0..<32).map { UInt8($0 * 7) }
        let id = ChunkID(bytes: bytes)
        XCTAssertEqual(id.bytes, bytes)
        XCTAssertEqual(ChunkID(hex: id.hex), id)
        XCTAssertEqual(ChunkID(hex: id.hex.uppercased()), id)
        XCTAssertNil(ChunkID(hex: "abc"))
        XCTAssertNil(ChunkID(hex: String(repeating: "g", count: 64)))
        XCTAssertTrue(ChunkID.zero.isZero)
        XCTAssertFalse(id.isZero)
        XCTAssertEqual(ChunkID.zero.hex, String(repeating: "0", count: 64))
    }
}

final class DiskIndexTests: XCTestCase {
    func testRoundTripKeepsEveryIDInOrder() throws {
        let ids = (0..<1000).map { $0 % 3 == 0 ? ChunkID.zero : encode(Data("chunk \($0)".utf8)).id }
        let index = DiskIndex(virtualSize: 1000 << 20 - 5, chunkSize: 1 << 20, chunks: ids)
        XCTAssertEqual(try DiskIndex(serialized: index.serialized()), index)
    }

    func testCorruptedIndexIsRejected() throws {
        let index = DiskIndex(virtualSize: 3 << 20, chunkSize: 1 << 20, chunks: [.zero, .zero, .zero])
        var bytes = index.serialized()
        bytes[bytes.count - 3] ^= 0xFF
        XCTAssertThrowsError(try DiskIndex(serialized: bytes))
        XCTAssertThrowsError(try DiskIndex(serialized: Data("not an index".utf8))) { error in
            guard case StoreError.corrupt = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try DiskIndex(serialized: bytes.prefix(10)))
    }
}

/// A thread-safe counter for concurrent tests.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment(by amount: Int = 1) { lock.lock(); count += amount; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
