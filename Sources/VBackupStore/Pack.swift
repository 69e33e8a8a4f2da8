import Foundation
import StorageAdapter

/// Where a chunk blob lives: the unit of the chunk index (catalog rows, index fragments).
struct ChunkLocation: Hashable, Sendable {
    var id: ChunkID
    /// Hex SHA-256 of the pack.
    var pack: String
    var offset: UInt64
    var length: UInt32
    var rawLength: UInt32
}

/// The pack format: `blob… trailer trailerLength:u32 magic[8]`, where the trailer is
/// `count:u32` then `count × (id[32] offset:u64 length:u32 rawLength:u32)`.
///
/// The trailer sits at the end so blobs can be appended as they arrive; the fixed-size tail
/// lets a reader find the trailer with two ranged reads, without fetching the pack. In an
/// encrypted store the trailer is sealed (`ObjectKind.packTrailer`) and the magic is
/// `VBPACKE1`, so a reader without the key says so instead of misparsing it.
enum Pack {
    static let magic: [UInt8] = Array("VBPACK01".utf8)
    static let sealedMagic: [UInt8] = Array("VBPACKE1".utf8)
    static let entrySize = 48
    static let tailSize = 4 + 8

    static func trailer(for entries: [ChunkLocation], cipher: ObjectCipher) -> Data {
        let sealed = cipher.seal(plainTrailer(for: entries), kind: .packTrailer)
        var writer = ByteWriter(capacity: sealed.count + tailSize)
        writer.append(bytes: sealed)
        writer.append(UInt32(sealed.count))
        writer.append(bytes: cipher.isEncrypting ? sealedMagic : magic)
        return writer.data
    }

    private static func plainTrailer(for entries: [ChunkLocation]) -> Data {
        var writer = ByteWriter(capacity: 4 + entries.count * entrySize + tailSize)
        writer.append(UInt32(entries.count))
        for entry in entries {
            writer.append(entry.id)
            writer.append(entry.offset)
            writer.append(entry.length)
            writer.append(entry.rawLength)
        }
        return writer.data
    }

    /// Lists the blobs of a whole pack held in memory.
    static func entries(inPack data: Data, packID: String, cipher: ObjectCipher) throws -> [ChunkLocation] {
        let tail = try ByteReader(data).tail(count: tailSize)
        let trailerLength = try parseTail(tail, packSize: data.count, cipher: cipher)
        let start = data.endIndex - tailSize - trailerLength
        let trailer = try cipher.open(data[start..<(data.endIndex - tailSize)], kind: .packTrailer)
        return try parseTrailer(trailer, packID: packID, blobArea: start - data.startIndex)
    }

    /// Lists the blobs of a stored pack with two ranged reads (tail, then trailer).
    static func entries(adapter: any StorageAdapter, packID: String, cipher: ObjectCipher) throws -> [ChunkLocation] {
        let key = StoreFormat.packKey(packID)
        return try StoreError.mapping(key: key) {
            guard let info = try adapter.stat(key) else { throw StorageError.notFound(key: key) }
            guard info.size >= tailSize + 4 else { throw FormatError(reason: "too small for a pack (\(info.size) bytes)") }
            let tail = try adapter.getRange(key, offset: info.size - tailSize, length: tailSize)
            let trailerLength = try parseTail(tail, packSize: info.size, cipher: cipher)
            let start = info.size - tailSize - trailerLength
            let trailer = try cipher.open(adapter.getRange(key, offset: start, length: trailerLength), kind: .packTrailer)
            return try parseTrailer(trailer, packID: packID, blobArea: start)
        }
    }

    private static func parseTail(_ tail: Data, packSize: Int, cipher: ObjectCipher) throws -> Int {
        var reader = ByteReader(tail)
        let trailerLength = Int(try reader.read(UInt32.self))
        let found = Array(try reader.take(magic.count))
        switch (found, cipher.isEncrypting) {
        case (magic, false), (sealedMagic, true): break
        case (sealedMagic, false): throw FormatError(reason: "pack of an encrypted store, read without its key")
        case (magic, true): throw FormatError(reason: "unencrypted pack in an encrypted store")
        default: throw FormatError(reason: "not a pack (bad magic)")
        }
        guard trailerLength >= 4, trailerLength + tailSize <= packSize else {
            throw FormatError(reason: "trailer length \(trailerLength) does not fit a \(packSize)-byte pack")
        }
        return trailerLength
    }

    private static func parseTrailer(_ trailer: Data, packID: String, blobArea: Int) throws -> [ChunkLocation] {
        var reader = ByteReader(trailer)
        let count = Int(try reader.read(UInt32.self))
        guard reader.remaining == count * entrySize else {
            throw FormatError(reason: "trailer of \(trailer.count) bytes cannot list \(count) blobs")
        }
        var entries: [ChunkLocation] = []
        entries.reserveCapacity(count)
        for _ in 0..<count {
            let entry = ChunkLocation(
                id: try reader.readID(), pack: packID, offset: try reader.read(UInt64.self),
                length: try reader.read(UInt32.self), rawLength: try reader.read(UInt32.self))
            guard entry.offset + UInt64(entry.length) <= UInt64(blobArea) else {
                throw FormatError(reason: "blob \(entry.id) lies outside the blob area")
            }
            entries.append(entry)
        }
        return entries
    }
}

extension ByteReader {
    /// The last `count` bytes, whatever the current position.
    func tail(count: Int) throws -> Data {
        var copy = self
        guard copy.remaining >= count else { throw FormatError(reason: "too small for a pack") }
        _ = try copy.take(copy.remaining - count)
        return try copy.take(count)
    }
}
