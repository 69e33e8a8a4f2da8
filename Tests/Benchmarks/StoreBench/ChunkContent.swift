import Foundation

/// Deterministic synthetic chunk contents: the same (seed, size) always gives the same bytes,
/// so a run reproduces and an appended point series continues where the last run stopped.
enum ChunkContent {
    /// xorshift64*: fast enough to fill GiBs, not for anything but benchmarks.
    struct Generator {
        private var state: UInt64

        init(seed: UInt64) { state = (seed &+ 1) &* 0x9E37_79B9_7F4A_7C15 | 1 }

        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 0x2545_F491_4F6C_DD1D
        }
    }

    /// Incompressible bytes (encrypted volumes, media, archives).
    static func random(_ buffer: UnsafeMutableRawBufferPointer, seed: UInt64) {
        var generator = Generator(seed: seed)
        let words = buffer.count / 8
        let base = buffer.baseAddress!
        for index in 0..<words { base.storeBytes(of: generator.next(), toByteOffset: index * 8, as: UInt64.self) }
        for index in (words * 8)..<buffer.count { buffer[index] = UInt8(truncatingIfNeeded: generator.next()) }
    }

    private static let words: [[UInt8]] = [
        "kernel", "systemd", "eth0", "link", "up", "session", "opened", "for", "user", "root", "by",
        "GET", "/api/v1/items", "200", "404", "POST", "latency", "ms", "cache", "miss", "hit", "the",
        "database", "checkpoint", "complete", "wrote", "buffers", "INFO", "WARN", "DEBUG", "worker",
    ].map { Array($0.utf8) }

    /// Text that zstd shrinks about 3-4x: log-like lines of words picked at random.
    static func text(_ buffer: UnsafeMutableRawBufferPointer, seed: UInt64) {
        var generator = Generator(seed: seed)
        var position = 0
        while position < buffer.count {
            let value = generator.next()
            let word = words[Int(value % UInt64(words.count))]
            let separator: UInt8 = value >> 60 == 0 ? 0x0A : 0x20
            for byte in word where position < buffer.count {
                buffer[position] = byte
                position += 1
            }
            if position < buffer.count {
                buffer[position] = separator
                position += 1
            }
        }
    }

    /// A small chunk unique by its number, compressible but not to nothing: the number, 496
    /// random bytes, then a repeated pattern (about 560 bytes once compressed at 4 KiB).
    static func numbered(_ buffer: UnsafeMutableRawBufferPointer, number: UInt64) {
        let head = min(buffer.count, 512)
        random(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<head]), seed: number ^ 0x5EED)
        buffer.storeBytes(of: number, toByteOffset: 0, as: UInt64.self)
        let pattern = Array("vbackup store benchmark filler line; ".utf8)
        for index in head..<buffer.count { buffer[index] = pattern[index % pattern.count] }
    }
}
