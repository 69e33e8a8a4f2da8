import Foundation

/// Appends little-endian integers and raw bytes: the one encoder every binary object uses.
struct ByteWriter {
    private(set) var data = Data()

    init(capacity: Int = 0) {
        data.reserveCapacity(capacity)
    }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    mutating func append(_ id: ChunkID) {
        append(id.w0)
        append(id.w1)
        append(id.w2)
        append(id.w3)
    }

    mutating func append(bytes: [UInt8]) {
        data.append(contentsOf: bytes)
    }

    mutating func append(bytes: Data) {
        data.append(bytes)
    }

    mutating func append(bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        data.append(base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    }
}

/// Reads what `ByteWriter` wrote, throwing `FormatError` instead of reading past the end.
struct ByteReader {
    private let data: Data
    private(set) var position: Int

    init(_ data: Data) {
        self.data = data
        self.position = data.startIndex
    }

    var remaining: Int { data.endIndex - position }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        let slice = try take(size)
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: slice) }
        return T(littleEndian: value)
    }

    mutating func readID() throws -> ChunkID {
        ChunkID(bytes: try take(32))
    }

    mutating func take(_ count: Int) throws -> Data {
        guard count >= 0, remaining >= count else {
            throw FormatError(reason: "truncated: wanted \(count) bytes at \(position - data.startIndex), \(remaining) left")
        }
        defer { position += count }
        return data[position..<position + count]
    }

    /// Checks a fixed magic string at the current position.
    mutating func expect(magic: [UInt8], what: String) throws {
        guard remaining >= magic.count, Array(try take(magic.count)) == magic else {
            throw FormatError(reason: "not a \(what) (bad magic)")
        }
    }
}

/// A body compressed with zstd behind a small uncompressed header, used by the disk index and
/// index fragments: `magic version:u32 rawLength:u64 zstd-frame`.
enum FramedObject {
    static func encode(magic: [UInt8], version: UInt32, body: Data) -> Data {
        var writer = ByteWriter(capacity: body.count / 2 + 32)
        writer.append(bytes: magic)
        writer.append(version)
        writer.append(UInt64(body.count))
        writer.append(bytes: ZstdBridge.compressChecked(body))
        return writer.data
    }

    static func decode(_ data: Data, magic: [UInt8], version: UInt32, what: String) throws -> Data {
        var reader = ByteReader(data)
        try reader.expect(magic: magic, what: what)
        let found = try reader.read(UInt32.self)
        guard found == version else { throw FormatError(reason: "\(what) version \(found), expected \(version)") }
        let rawLength = try reader.read(UInt64.self)
        guard rawLength < UInt64(Int32.max) * 16 else { throw FormatError(reason: "implausible length \(rawLength)") }
        return try ZstdBridge.decompress(try reader.take(reader.remaining), rawLength: Int(rawLength))
    }
}
