import Foundation
import ZstdCodec

/// The store's use of zstd: level 1 everywhere, and codec failures reported as format errors,
/// since inside the store a frame that will not decode is a corrupt object.
enum ZstdBridge {
    static let level: Int32 = 1

    /// For metadata objects: with zstd's content checksum, since their parsers could otherwise
    /// accept a flipped byte that still decodes.
    static func compressChecked(_ data: Data) -> Data {
        Zstd.compress(data, level: level, checksum: true)
    }

    static func compress(_ buffer: UnsafeRawBufferPointer) -> Data {
        Zstd.compress(buffer, level: level)
    }

    static func compressBound(_ count: Int) -> Int { Zstd.compressBound(count) }

    static func compress(_ buffer: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        Zstd.compress(buffer, into: output, level: level)
    }

    static func decompress(_ data: Data, rawLength: Int) throws -> Data {
        do {
            return try Zstd.decompress(data, rawLength: rawLength)
        } catch let error as ZstdError {
            throw FormatError(reason: error.description)
        }
    }
}
