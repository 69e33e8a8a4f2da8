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

/// Turns raw chunk bytes into blobs and back, with the store's keys. Pure and thread-safe, so
/// the backup engine runs it on its worker threads, outside any store lock: hashing, compressing
/// and sealing are the CPU-heavy part.
///
/// Blob: `"VBC" codec:u8 rawLength:u32 payload`, codec 0 = raw, 1 = zstd. A plain store
/// (`ChunkCodec.plain`) names a chunk by the SHA-256 of its bytes and stores the blob as is; an
/// encrypted store names it by HMAC-SHA256 under a key derived from the master key (equal data
/// still gets equal ids, so dedup works, but ids tell nothing about the data) and stores the
/// blob sealed with AES-256-GCM, bound to its id.
///
/// `@unchecked Sendable`: its keys are `SymmetricKey`s, immutable once made (see `ObjectCipher`).
public struct ChunkCodec: @unchecked Sendable {
    static let magic: [UInt8] = Array("VBC".utf8)
    static let headerSize = 8
    static let raw: UInt8 = 0
    static let zstd: UInt8 = 1

    /// SHA-256 ids, unsealed blobs: the format of every unencrypted store.
    public static let plain = ChunkCodec(idKey: nil, cipher: .none)

    /// The HMAC key for chunk ids; nil: SHA-256.
    private let idKey: SymmetricKey?
    private let cipher: ObjectCipher

    init(idKey: SymmetricKey?, cipher: ObjectCipher) {
        self.idKey = idKey
        self.cipher = cipher
    }

    /// Whether blobs are sealed (the store is encrypted).
    public var isEncrypting: Bool { cipher.isEncrypting }

    /// The chunk's id: SHA-256, or HMAC-SHA256 under the store's id key.
    public func id(of data: UnsafeRawBufferPointer) -> ChunkID {
        guard let idKey else { return Digests.chunkID(of: data) }
        return HMAC<SHA256>.authenticationCode(for: data, using: idKey).withUnsafeBytes { ChunkID(bytes: $0) }
    }

    /// Id + zstd (+ AES-GCM); pure and thread-safe (called from several worker threads at once).
    public func encode(_ data: UnsafeRawBufferPointer) -> EncodedChunk {
        let id = self.id(of: data)
        let blob = Self.blob(of: data, tryCompressing: !Self.looksIncompressible(data))
        return EncodedChunk(id: id, blob: cipher.sealChunk(blob, id: id), rawLength: data.count)
    }

    /// Header plus zstd frame (when smaller) or raw bytes, built in one allocation: zstd writes
    /// its frame right after the header. A zero-filled output buffer per chunk, then a copy of
    /// the frame behind a header, cost two fresh buffers and their page faults per chunk.
    static func blob(of data: UnsafeRawBufferPointer, tryCompressing: Bool) -> Data {
        let capacity = headerSize + max(data.count, tryCompressing ? ZstdBridge.compressBound(data.count) : 0)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
        let payload = UnsafeMutableRawBufferPointer(rebasing: buffer[headerSize...])
        var codec = raw, payloadSize = data.count
        if tryCompressing {
            let written = ZstdBridge.compress(data, into: payload)
            if written < data.count { codec = zstd; payloadSize = written }
        }
        if codec == raw, data.count > 0 { payload.copyMemory(from: data) }
        var header = ByteWriter(capacity: headerSize)
        header.append(bytes: magic)
        header.append(codec)
        header.append(UInt32(data.count))
        header.data.withUnsafeBytes { buffer.copyMemory(from: $0) }
        return Data(bytesNoCopy: buffer.baseAddress!, count: headerSize + payloadSize, deallocator: .custom { pointer, _ in
            pointer.deallocate()
        })
    }

    /// Opens and decodes a blob and checks that its bytes map to `id`; throws `StoreError.corrupt`.
    public func decode(_ blob: Data, expecting id: ChunkID) throws -> Data {
        do {
            let data = try Self.decodeUnverified(cipher.openChunk(blob, id: id))
            let actual = data.withUnsafeBytes { self.id(of: $0) }
            guard actual == id else { throw FormatError(reason: "content hashes to \(actual)") }
            return data
        } catch let error as FormatError {
            throw StoreError.corrupt(key: "chunk \(id)", reason: error.reason)
        }
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
