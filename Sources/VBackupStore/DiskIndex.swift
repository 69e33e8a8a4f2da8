import Foundation

/// The chunk list of one disk in one point: chunk `i` covers bytes
/// `[i × chunkSize, min((i + 1) × chunkSize, virtualSize))`; `ChunkID.zero` marks all-zero chunks.
///
/// Complete on its own (every chunk of the disk), so a restore never walks a chain of points.
/// Serialized as a `FramedObject` ("VBDIDX\0\0", version 1) whose zstd body is
/// `virtualSize:u64 chunkSize:u32 count:u64 count × id[32]`.
public struct DiskIndex: Sendable, Equatable {
    static let magic: [UInt8] = Array("VBDIDX\0\0".utf8)
    static let version: UInt32 = 1

    public var virtualSize: UInt64
    public var chunkSize: Int
    public var chunks: [ChunkID]

    public init(virtualSize: UInt64, chunkSize: Int, chunks: [ChunkID]) {
        self.virtualSize = virtualSize
        self.chunkSize = chunkSize
        self.chunks = chunks
    }

    public func serialized() -> Data {
        var writer = ByteWriter(capacity: 20 + chunks.count * 32)
        writer.append(virtualSize)
        writer.append(UInt32(chunkSize))
        writer.append(UInt64(chunks.count))
        for id in chunks { writer.append(id) }
        return FramedObject.encode(magic: Self.magic, version: Self.version, body: writer.data)
    }

    /// Parses a serialized index; throws `StoreError.corrupt` when it is malformed.
    public init(serialized: Data) throws {
        do {
            let body = try FramedObject.decode(serialized, magic: Self.magic, version: Self.version, what: "disk index")
            var reader = ByteReader(body)
            virtualSize = try reader.read(UInt64.self)
            chunkSize = Int(try reader.read(UInt32.self))
            let count = try reader.read(UInt64.self)
            guard chunkSize > 0, UInt64(reader.remaining) == count * 32 else {
                throw FormatError(reason: "chunk size \(chunkSize), \(reader.remaining) bytes for \(count) ids")
            }
            chunks = []
            chunks.reserveCapacity(Int(count))
            for _ in 0..<count { chunks.append(try reader.readID()) }
        } catch let error as FormatError {
            throw StoreError.corrupt(key: "disk index", reason: error.reason)
        }
    }
}
