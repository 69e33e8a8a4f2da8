import Crypto
import Foundation

/// SHA-256 in the two shapes the format uses: chunk ids and hex object names/digests.
enum Digests {
    static func chunkID(of buffer: UnsafeRawBufferPointer) -> ChunkID {
        SHA256.hash(data: buffer).withUnsafeBytes { ChunkID(bytes: $0) }
    }

    static func hex(of data: Data) -> String {
        SHA256.hash(data: data).withUnsafeBytes { Hex.encode($0) }
    }
}
