import Crypto
import Foundation

/// A chunk ready for the store: its id and its blob (header + raw or zstd payload).
public struct EncodedChunk: Sendable {
    public let id: ChunkID
    public let blob: Data
    public let rawLength: Int

    public init(id: ChunkID, blob: Data, rawLength: Int) {
        self.id = id
        self.blob = blob
        self.rawLength = rawLength
    }
}

/// Turns raw chunk bytes into blobs and back. Pure functions, so the backup engine runs them on
/// its worker threads, outside any store lock: hashing and compressing are the CPU-heavy part.
///
/// Blob: `"VBC" codec:u8 rawLength:u32 payload`, codec 0 = raw, 1 = zstd.
public enum ChunkCodec {
    static let magic: [UInt8] = Array("VBC".utf8)
    static let headerSize = 8
    static let raw: UInt8 = 0
    static let zstd: UInt8 = 1

    /// SHA-256 + zstd; pure and thread-safe (called from several worker threads at once).
    public static func encode(_ data: UnsafeRawBufferPointer) -> EncodedChunk {
        let id = Digests.chunkID(of: data)
        let compressed = looksIncompressible(data) ? nil : ZstdBridge.compress(data)
        let smaller = compressed.flatMap { $0.count < data.count ? $0 : nil }
        var writer = ByteWriter(capacity: headerSize + (smaller?.count ?? data.count))
        writer.append(bytes: magic)
        writer.append(smaller == nil ? raw : zstd)
        writer.append(UInt32(data.count))
        if let smaller {
            writer.append(bytes: smaller)
        } else {
            writer.append(bytes: data)
        }
        return EncodedChunk(id: id, blob: writer.data, rawLength: data.count)
    }

    static let sampleSize = 8 << 10

    /// Random or already-compressed data (encrypted volumes, media, archives) costs a full zstd
    /// pass only to be stored raw. Compressing 8 KiB from the middle of the chunk first tells,
    /// at a thirtieth of the cost: a sample that shrinks by under 3 % marks the chunk raw.
    static func looksIncompressible(_ data: UnsafeRawBufferPointer) -> Bool {
        guard data.count >= 8 * sampleSize else { return false }
        let start = (data.count / 2) & ~4095
        let sample = UnsafeRawBufferPointer(rebasing: data[start..<start + sampleSize])
        return ZstdBridge.compress(sample).count * 100 >= sampleSize * 97
    }

    /// Decodes a blob and checks that its bytes hash to `id`; throws `StoreError.corrupt`.
    public static func decode(_ blob: Data, expecting id: ChunkID) throws -> Data {
        do {
            let data = try decodeUnverified(blob)
            let actual = data.withUnsafeBytes { Digests.chunkID(of: $0) }
            guard actual == id else { throw FormatError(reason: "content hashes to \(actual)") }
            return data
        } catch let error as FormatError {
            throw StoreError.corrupt(key: "chunk \(id)", reason: error.reason)
        }
    }

    /// Whether every byte is zero. Compares the buffer with itself shifted by one byte: libc's
    /// vectorized `memcmp` makes this a word-wise scan that stops at the first non-zero byte.
    public static func isAllZero(_ data: UnsafeRawBufferPointer) -> Bool {
        guard let base = data.baseAddress, data.count > 0 else { return true }
        guard base.load(as: UInt8.self) == 0 else { return false }
        return memcmp(base, base + 1, data.count - 1) == 0
    }

    private static func decodeUnverified(_ blob: Data) throws -> Data {
        var reader = ByteReader(blob)
        try reader.expect(magic: magic, what: "chunk blob")
        let codec = try reader.read(UInt8.self)
        let rawLength = Int(try reader.read(UInt32.self))
        let payload = try reader.take(reader.remaining)
        switch codec {
        case raw:
            guard payload.count == rawLength else {
                throw FormatError(reason: "raw payload of \(payload.count) bytes, header says \(rawLength)")
            }
            return Data(payload)
        case zstd:
            return try ZstdBridge.decompress(payload, rawLength: rawLength)
        default:
            throw FormatError(reason: "unknown codec \(codec)")
        }
    }
}
