import Foundation
import Glibc
import NBDServer

/// An export held in memory: deterministic bytes with zero blocks where asked, extents per
/// `block`, and optional failures and slowness to drive the server's error paths.
final class MemorySource: NBDExportSource, @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String { "the test source refuses these bytes" }
    }

    let bytes: [UInt8]
    let block: Int
    /// Reads touching this range throw.
    let failing: Range<UInt64>?
    /// Each read sleeps this long first (to keep requests in flight).
    let delay: Double
    private let lock = NSLock()
    private var readCount = 0

    var size: UInt64 { UInt64(bytes.count) }
    var reads: Int { lock.withLock { readCount } }

    /// `size` bytes of a pattern that differs at every offset, with `zeroBlocks` (indexes of
    /// `block`-sized blocks) all zero.
    init(size: Int, block: Int = 256 << 10, zeroBlocks: Set<Int> = [], failing: Range<UInt64>? = nil, delay: Double = 0) {
        var bytes = [UInt8](repeating: 0, count: size)
        bytes.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            for i in words.indices {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                words[i] = state ^ (state >> 29)
            }
            for index in zeroBlocks where index * block < size {
                UnsafeMutableRawBufferPointer(rebasing: raw[index * block..<min(size, (index + 1) * block)])
                    .initializeMemory(as: UInt8.self, repeating: 0)
            }
        }
        self.bytes = bytes
        self.block = block
        self.failing = failing
        self.delay = delay
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        lock.withLock { readCount += 1 }
        if delay > 0 { usleep(UInt32(delay * 1_000_000)) }
        if let failing, failing.overlaps(offset..<offset + UInt64(buffer.count)) { throw Failure() }
        bytes.withUnsafeBytes { all in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[Int(offset)..<Int(offset) + buffer.count]))
        }
    }

    func extents(at offset: UInt64, length: UInt64) -> [NBDExtent]? {
        var extents: [NBDExtent] = []
        var position = offset
        let end = min(size, offset + length)
        while position < end {
            let blockEnd = min(end, (position / UInt64(block) + 1) * UInt64(block))
            let isZero = bytes[Int(position)..<Int(blockEnd)].allSatisfy { $0 == 0 }
            extents.append(NBDExtent(length: blockEnd - position, isZero: isZero))
            position = blockEnd
        }
        return extents
    }

    func slice(_ offset: Int, _ length: Int) -> [UInt8] { Array(bytes[offset..<offset + length]) }

    /// Writes the bytes to `path`, the reference qemu-img and cmp compare against.
    func writeReference(to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

/// A folder under /tmp for one test's socket and files, removed by `remove()`.
struct Scratch {
    let path: String

    init() throws {
        path = "/tmp/vbnbd-\(String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    var socket: String { path + "/nbd.sock" }
    func file(_ name: String) -> String { path + "/" + name }
    func uri(_ export: String) -> String { "nbd+unix:///\(export)?socket=\(socket)" }
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Starts a server on a fresh scratch folder, runs `body`, then stops it and cleans up.
func withServer(_ exports: [String: any NBDExportSource], owner: String? = nil,
                _ body: (NBDServer, Scratch) throws -> Void) throws {
    let scratch = try Scratch()
    defer { scratch.remove() }
    let server = try NBDServer(socketPath: scratch.socket, exports: exports, socketOwner: owner)
    defer { server.stop() }
    try body(server, scratch)
}

/// Runs a program and returns its exit status and output (stdout then stderr).
@discardableResult
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    nonisolated(unsafe) var errData = Data()
    let errDone = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        errDone.signal()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    errDone.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}
