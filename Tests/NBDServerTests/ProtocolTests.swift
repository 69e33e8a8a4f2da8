import Foundation
import Glibc
import NBDClient
import NBDServer
import Testing

/// The server's answers to what clients may and may not ask, on the wire.
@Suite("NBDServer protocol")
struct ProtocolTests {
    static let eperm: UInt32 = 1, eio: UInt32 = 5, einval: UInt32 = 22
    static let errorChunk: UInt16 = 0x8001, dataChunk: UInt16 = 1, done: UInt16 = 1

    func source() -> MemorySource { MemorySource(size: 4 << 20, block: 64 << 10, zeroBlocks: [3]) }

    @Test func writeTrimZeroAndCacheAreRefusedWithEPERMAndTheStreamStaysInStep() throws {
        let source = source()
        try withServer(["disk": source]) { _, scratch in
            let client = try RawClient(socket: scratch.socket)
            try client.connect(export: "disk", structured: true)
            client.request(RawClient.write, handle: 1, offset: 0, length: 8192, payload: [UInt8](repeating: 0xAB, count: 8192))
            let refused = try client.chunk()
            #expect(refused.handle == 1 && refused.type == Self.errorChunk && refused.flags & Self.done != 0)
            #expect(UInt32(bigEndian: refused.payload, at: 0) == Self.eperm)
            for (handle, type) in [(2, RawClient.trim), (3, RawClient.writeZeroes), (4, RawClient.cache)] {
                client.request(type, handle: UInt64(handle), offset: 0, length: 4096)
                let reply = try client.chunk()
                #expect(reply.handle == UInt64(handle) && reply.type == Self.errorChunk)
                #expect(UInt32(bigEndian: reply.payload, at: 0) == Self.eperm)
            }
            // The write's payload was consumed: the next request parses, and nothing was written.
            client.request(RawClient.read, handle: 5, offset: 0, length: 8192)
            let read = try client.chunk()
            #expect(read.handle == 5 && read.type == Self.dataChunk && read.flags & Self.done != 0)
            #expect(UInt64(bigEndian: read.payload, at: 0) == 0)
            #expect(Array(read.payload[8...]) == source.slice(0, 8192))

            let simple = try RawClient(socket: scratch.socket)
            try simple.connect(export: "disk", structured: false)
            simple.request(RawClient.write, handle: 9, offset: 0, length: 512, payload: [UInt8](repeating: 1, count: 512))
            #expect(try simple.simpleReply() == (Self.eperm, 9))
        }
    }

    @Test func requestsPastTheEndAreRefusedWithEINVAL() throws {
        let source = source()
        try withServer(["disk": source]) { _, scratch in
            let client = try RawClient(socket: scratch.socket)
            try client.connect(export: "disk", structured: false)
            let size = source.size
            let outside: [(offset: UInt64, length: UInt32)] = [(size - 100, 200), (size, 1), (size + 4096, 512), (UInt64.max - 10, 100)]
            for (handle, request) in outside.enumerated() {
                client.request(RawClient.read, handle: UInt64(handle), offset: request.offset, length: request.length)
                #expect(try client.simpleReply() == (Self.einval, UInt64(handle)), "read \(request)")
            }
            client.request(RawClient.read, handle: 99, offset: size - 100, length: 100)
            #expect(try client.simpleReply() == (0, 99))
            #expect(try client.receive(100) == source.slice(Int(size) - 100, 100))

            let bigger = try RawClient(socket: scratch.socket)
            try bigger.connect(export: "disk", structured: true)
            bigger.request(RawClient.read, handle: 7, offset: 0, length: 32 << 20 + 1)
            let tooBig = try bigger.chunk()
            #expect(tooBig.type == Self.errorChunk && UInt32(bigEndian: tooBig.payload, at: 0) == Self.einval)
            bigger.request(RawClient.blockStatus, handle: 8, offset: size - 1, length: 2)
            let noContext = try bigger.chunk()
            #expect(noContext.type == Self.errorChunk && UInt32(bigEndian: noContext.payload, at: 0) == Self.einval)
        }
    }

    @Test func aSourceErrorIsEIOForThatRequestOnlyAndTheConnectionKeepsWorking() throws {
        let failing = MemorySource(size: 4 << 20, failing: (1 << 20)..<((1 << 20) + 1))
        try withServer(["disk": failing]) { _, scratch in
            let nbd = try NBDConnection(unixSocket: scratch.socket, exportName: "disk")
            defer { nbd.close() }
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            let error = #expect(throws: NBDError.self) {
                try buffer.withUnsafeMutableBytes { try nbd.read(into: $0, at: (1 << 20) - 100) }
            }
            #expect(error?.errno == EIO)
            try buffer.withUnsafeMutableBytes { try nbd.read(into: $0, at: 2 << 20) }
            #expect(buffer == failing.slice(2 << 20, 64 << 10))

            let simple = try RawClient(socket: scratch.socket)
            try simple.connect(export: "disk", structured: false)
            simple.request(RawClient.read, handle: 1, offset: 1 << 20, length: 4096)
            #expect(try simple.simpleReply() == (Self.eio, 1))
            simple.request(RawClient.read, handle: 2, offset: 0, length: 16)
            #expect(try simple.simpleReply() == (0, 2))
            #expect(try simple.receive(16) == failing.slice(0, 16))
        }
    }

    @Test func garbageClosesOnlyThatConnection() throws {
        let source = source()
        try withServer(["disk": source]) { _, scratch in
            let good = try NBDConnection(unixSocket: scratch.socket, exportName: "disk")
            defer { good.close() }

            let noise = try RawClient(socket: scratch.socket)
            noise.send((0..<1024).map { UInt8(truncatingIfNeeded: $0 &* 7) })
            #expect(noise.isClosedByServer())

            let badFlags = try RawClient(socket: scratch.socket)
            _ = try badFlags.receive(18)
            badFlags.send(be(UInt32(0xFFFF_0000)))
            #expect(badFlags.isClosedByServer())

            let badOption = try RawClient(socket: scratch.socket)
            try badOption.greet()
            badOption.send(be(UInt64(0x1234)) + be(UInt32(7)) + be(UInt32(0)))
            #expect(badOption.isClosedByServer())

            let hugeOption = try RawClient(socket: scratch.socket)
            try hugeOption.greet()
            hugeOption.send(be(RawClient.optionMagic) + be(UInt32(7)) + be(UInt32.max))
            #expect(hugeOption.isClosedByServer())

            let badRequest = try RawClient(socket: scratch.socket)
            try badRequest.connect(export: "disk", structured: true)
            badRequest.send([UInt8](repeating: 0x55, count: 28))
            #expect(badRequest.isClosedByServer())

            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            try buffer.withUnsafeMutableBytes { try good.read(into: $0, at: 1 << 20) }
            #expect(buffer == source.slice(1 << 20, 1 << 20))
        }
    }

    @Test func optionHaggling() throws {
        let one = source(), two = MemorySource(size: 1 << 20)
        try withServer(["vda": one, "vdb": two]) { _, scratch in
            let list = try run("/usr/bin/nbdinfo", ["--list", "--json", scratch.uri("")])
            #expect(list.status == 0, "\(list.err)")
            #expect(list.out.contains("\"vda\"") && list.out.contains("\"vdb\""), "\(list.out)")
            let info = try run("/usr/bin/nbdinfo", ["--json", scratch.uri("vdb")])
            #expect(info.out.contains("\"export-size\": \(1 << 20)"), "\(info.out)")
            #expect(info.out.contains("\"block_size_maximum\": \(32 << 20)"), "\(info.out)")
            #expect(info.out.contains("\"is_read_only\": true") && info.out.contains("\"can_multi_conn\": true"), "\(info.out)")

            #expect(throws: NBDError.self) { _ = try NBDConnection(unixSocket: scratch.socket, exportName: "vdz") }

            let client = try RawClient(socket: scratch.socket)
            try client.greet()
            #expect(try client.option(99).map(\.type) == [0x8000_0001])          // unknown: ERR_UNSUP
            #expect(try client.option(5).map(\.type) == [0x8000_0001])           // STARTTLS: ERR_UNSUP
            #expect(try client.option(10, be(UInt32(3)) + Array("vda".utf8) + be(UInt32(0))).map(\.type) == [0x8000_0003])
            #expect(try client.option(8).map(\.type) == [1])
            let set = try client.option(10, be(UInt32(3)) + Array("vda".utf8) + be(UInt32(1))
                                        + be(UInt32(15)) + Array("base:allocation".utf8))
            #expect(set.map(\.type) == [4, 1])
            let listed = try client.option(9, be(UInt32(3)) + Array("vda".utf8) + be(UInt32(0)))
            #expect(listed.map(\.type) == [4, 1] && String(decoding: listed[0].data[4...], as: UTF8.self) == "base:allocation")
            // EXPORT_NAME, the old way in: size, flags, no zeroes (negotiated).
            client.send(be(RawClient.optionMagic) + be(UInt32(1)) + be(UInt32(3)) + Array("vda".utf8))
            let reply = try client.receive(10)
            #expect(UInt64(bigEndian: reply, at: 0) == one.size)
            let flags = UInt16(bigEndian: reply, at: 8)
            #expect(flags & 0b11 == 0b11 && flags & (1 << 8) != 0)
            client.request(RawClient.blockStatus, handle: 3, offset: 0, length: 4 << 20)
            let status = try client.chunk()
            #expect(status.type == 5 && UInt32(bigEndian: status.payload, at: 0) == 1)
            let descriptors = stride(from: 4, to: status.payload.count, by: 8).map {
                [UInt32(bigEndian: status.payload, at: $0), UInt32(bigEndian: status.payload, at: $0 + 4)]
            }
            let expected: [[UInt32]] = [[192 << 10, 0], [64 << 10, 3], [(4 << 20) - (256 << 10), 0]]
            #expect(descriptors == expected)
            client.request(RawClient.flush, handle: 4, offset: 0, length: 0)
            let flushed = try client.chunk()
            #expect(flushed.handle == 4 && flushed.type == 0 && flushed.flags == 1)
            client.request(RawClient.disconnect, handle: 5, offset: 0, length: 0)
            #expect(client.isClosedByServer())
        }
    }
}
