import Foundation

/// The chunks one write session stored, written at commit under `index/<sha256>.idx`.
///
/// Fragments are never rewritten; the union of all fragments is the chunk index. Body (zstd,
/// inside a `FramedObject`): `count:u64` then `count × (id[32] pack[32] offset:u64 length:u32
/// rawLength:u32)`, pack ids as raw SHA-256 bytes.
struct IndexFragment: Equatable {
    static let magic: [UInt8] = Array("VBINDEX\0".utf8)
    static let version: UInt32 = 1
    static let entrySize = 80

    var locations: [ChunkLocation]

    func serialized() -> Data {
        var writer = ByteWriter(capacity: 8 + locations.count * Self.entrySize)
        writer.append(UInt64(locations.count))
        for location in locations {
            writer.append(location.id)
            // Pack ids are SHA-256 hex by construction, so this always parses.
            writer.append(ChunkID(hex: location.pack)!)
            writer.append(location.offset)
            writer.append(location.length)
            writer.append(location.rawLength)
        }
        return FramedObject.encode(magic: Self.magic, version: Self.version, body: writer.data)
    }

    init(locations: [ChunkLocation]) {
        self.locations = locations
    }

    init(serialized: Data) throws {
        let body = try FramedObject.decode(serialized, magic: Self.magic, version: Self.version, what: "index fragment")
        var reader = ByteReader(body)
        let count = try reader.read(UInt64.self)
        guard UInt64(reader.remaining) == count * UInt64(Self.entrySize) else {
            throw FormatError(reason: "\(reader.remaining) bytes cannot hold \(count) entries")
        }
        locations = []
        locations.reserveCapacity(Int(count))
        for _ in 0..<count {
            locations.append(ChunkLocation(
                id: try reader.readID(), pack: try reader.readID().hex, offset: try reader.read(UInt64.self),
                length: try reader.read(UInt32.self), rawLength: try reader.read(UInt32.self)))
        }
    }
}
