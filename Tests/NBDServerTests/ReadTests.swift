import Foundation
import NBDClient
import NBDServer
import Testing

/// What clients read is exactly what the source holds, through libnbd, qemu-img and nbdcopy.
@Suite("NBDServer reads", .serialized)
struct ReadTests {
    static let mib = 1 << 20
    /// 40 MiB in 256 KiB blocks; blocks 4-7 (1-2 MiB) and 100-103 are zero.
    static let source = MemorySource(size: 40 << 20, zeroBlocks: [4, 5, 6, 7, 100, 101, 102, 103])

    @Test func libnbdReadsExactBytesAtAnyOffsetAndSize() throws {
        try withServer(["disk": Self.source]) { _, scratch in
            let nbd = try NBDConnection(unixSocket: scratch.socket, exportName: "disk")
            defer { nbd.close() }
            #expect(nbd.size == Self.source.size)
            #expect(nbd.isReadOnly)
            #expect(nbd.maxRequest == 32 << 20)
            let reads: [(offset: Int, length: Int)] = [
                (0, 1), (1, 4095), (262_143, 2),                 // unaligned, across a block boundary
                (12_345, Self.mib + 17),                          // spans data and the zero blocks
                (3 * Self.mib - 5, 32 * Self.mib),                // the largest request, unaligned
                (Int(Self.source.size) - 7, 7),                   // the last bytes
            ]
            for read in reads {
                var back = [UInt8](repeating: 0xEE, count: read.length)
                try back.withUnsafeMutableBytes { try nbd.read(into: $0, at: UInt64(read.offset)) }
                #expect(back == Self.source.slice(read.offset, read.length), "read \(read.length) bytes at \(read.offset)")
            }
        }
    }

    @Test func qemuImgConvertsAndComparesEqualOverNBD() throws {
        try withServer(["disk": Self.source]) { _, scratch in
            let reference = scratch.file("reference.raw")
            try Self.source.writeReference(to: reference)
            let same = try run("/usr/bin/qemu-img", ["compare", "-f", "raw", "-F", "raw", reference, scratch.uri("disk")])
            #expect(same.status == 0, "\(same.out)\(same.err)")

            let copy = scratch.file("copy.raw")
            let convert = try run("/usr/bin/qemu-img", ["convert", "-f", "raw", "-O", "raw", scratch.uri("disk"), copy])
            #expect(convert.status == 0, "\(convert.err)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(Self.source.bytes))

            // The comparison can fail: one changed byte in the reference is found.
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: reference))
            try handle.seek(toOffset: 33 << 20)
            handle.write(Data([Self.source.bytes[33 << 20] ^ 0xFF]))
            try handle.close()
            let differs = try run("/usr/bin/qemu-img", ["compare", "-f", "raw", "-F", "raw", reference, scratch.uri("disk")])
            #expect(differs.status == 1, "\(differs.out)")
            #expect(differs.out.contains("\(33 << 20)"), "\(differs.out)")
        }
    }

    @Test func nbdcopyOverFourConnectionsCopiesExactly() throws {
        try withServer(["disk": Self.source]) { _, scratch in
            let copy = scratch.file("copy.raw")
            let result = try run("/usr/bin/nbdcopy", ["--connections=4", "--requests=16", "--request-size=\(4 * Self.mib)",
                                                      scratch.uri("disk"), copy])
            #expect(result.status == 0, "\(result.err)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(Self.source.bytes))
        }
    }

    @Test func baseAllocationReportsZeroBlocksAsHoles() throws {
        try withServer(["disk": Self.source]) { _, scratch in
            let map = try run("/usr/bin/nbdinfo", ["--map", scratch.uri("disk")])
            #expect(map.status == 0, "\(map.err)")
            let rows = map.out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
            let extents = rows.map { [UInt64($0[0])!, UInt64($0[1])!, UInt64($0[2])!] }
            let block: UInt64 = 256 << 10
            #expect(extents == [
                [0, 4 * block, 0],
                [4 * block, 4 * block, 3],
                [8 * block, 92 * block, 0],
                [100 * block, 4 * block, 3],
                [104 * block, Self.source.size - 104 * block, 0],
            ], "\(map.out)")

            let nbd = try NBDConnection(unixSocket: scratch.socket, exportName: "disk", metaContexts: [NBDContext.baseAllocation])
            defer { nbd.close() }
            #expect(nbd.supportsContext(NBDContext.baseAllocation))
            let part = try nbd.blockStatus(context: NBDContext.baseAllocation, offset: 4 * block + 100, length: 10)
            #expect(part.map(\.flags) == [3])
        }
    }

    @Test func concurrentLibnbdClientsEachReadTheirOwnBytes() throws {
        try withServer(["disk": Self.source]) { _, scratch in
            let failures = Failures()
            DispatchQueue.concurrentPerform(iterations: 8) { client in
                do {
                    let nbd = try NBDConnection(unixSocket: scratch.socket, exportName: "disk")
                    defer { nbd.close() }
                    var generator = SystemRandomNumberGenerator()
                    for _ in 0..<20 {
                        let length = Int.random(in: 1...(2 * Self.mib), using: &generator)
                        let offset = Int.random(in: 0...(Int(Self.source.size) - length), using: &generator)
                        var back = [UInt8](repeating: 0, count: length)
                        try back.withUnsafeMutableBytes { try nbd.read(into: $0, at: UInt64(offset)) }
                        if back != Self.source.slice(offset, length) { failures.add("client \(client): \(length) at \(offset)") }
                    }
                } catch {
                    failures.add("client \(client): \(error)")
                }
            }
            #expect(failures.all.isEmpty, "\(failures.all)")
        }
    }
}

/// Failures gathered from several threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
