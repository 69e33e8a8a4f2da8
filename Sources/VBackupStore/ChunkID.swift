import Foundation

/// The identity of a chunk: the SHA-256 of its raw bytes (32 bytes).
///
/// Stored as four words so that hashing and comparing, which dedup does for every chunk,
/// never touch the heap.
public struct ChunkID: Hashable, Sendable, CustomStringConvertible {
    /// The bytes as four little-endian words (byte 0 is the low byte of `w0`).
    private(set) var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    /// The "all-zero chunk" marker: chunks of zero bytes are never hashed nor stored.
    public static let zero = ChunkID(bytes: [UInt8](repeating: 0, count: 32))

    public init(bytes: some Collection<UInt8>) {
        precondition(bytes.count == 32, "a chunk id is 32 bytes, got \(bytes.count)")
        (w0, w1, w2, w3) = (0, 0, 0, 0)
        for (index, byte) in bytes.enumerated() {
            let bits = UInt64(byte) << (8 * UInt64(index % 8))
            switch index / 8 {
            case 0: w0 |= bits
            case 1: w1 |= bits
            case 2: w2 |= bits
            default: w3 |= bits
            }
        }
    }

    /// From 32 bytes in memory, as SQLite and pack trailers hand them over (word loads, no
    /// per-byte loop: GC and verify build millions of ids).
    init(raw: UnsafeRawBufferPointer) {
        precondition(raw.count == 32, "a chunk id is 32 bytes, got \(raw.count)")
        w0 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        w1 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        w2 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        w3 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    init(data: Data) {
        self = data.withUnsafeBytes { ChunkID(raw: $0) }
    }

    public init?(hex: String) {
        guard hex.utf8.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = Self.nibble(high), let l = Self.nibble(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        self.init(bytes: bytes)
    }

    /// The 32 bytes, in hash order.
    public var bytes: [UInt8] {
        [w0, w1, w2, w3].flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
    }

    public var hex: String { Hex.encode(bytes) }
    public var isZero: Bool { (w0 | w1 | w2 | w3) == 0 }
    public var description: String { hex }

    private static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return char - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Lower-case hex, as used in every key and digest of the format.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var chars: [UInt8] = []
        for byte in bytes {
            chars.append(digits[Int(byte >> 4)])
            chars.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: chars, as: UTF8.self)
    }
}
