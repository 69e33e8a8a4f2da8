/// Builds a big-endian message.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
    }

    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ raw: [UInt8]) {
        bytes.append(contentsOf: raw)
    }

    mutating func append(_ text: String) {
        bytes.append(contentsOf: Array(text.utf8))
    }

    mutating func appendZeroes(_ count: Int) {
        bytes.append(contentsOf: repeatElement(0, count: count))
    }
}

/// Stores a big-endian integer into raw memory (for headers written in front of read data).
func storeBigEndian<T: FixedWidthInteger>(_ value: T, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
    withUnsafeBytes(of: value.bigEndian) { source in
        UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + source.count]).copyMemory(from: source)
    }
}

/// Parses a big-endian message; running past its end is a protocol error.
struct WireReader {
    struct Truncated: Error {}

    private let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - position }

    mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(Truncated) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw Truncated() }
        var value: T = 0
        for byte in bytes[position..<position + size] { value = value << 8 | T(byte) }
        position += size
        return value
    }

    mutating func read(count: Int) throws(Truncated) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw Truncated() }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    /// A string preceded by its 32-bit length.
    mutating func readString() throws(Truncated) -> String {
        let length: UInt32 = try read()
        guard length <= NBDLimits.maximumOption else { throw Truncated() }
        return String(decoding: try read(count: Int(length)), as: UTF8.self)
    }
}
