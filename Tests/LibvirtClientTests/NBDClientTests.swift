import Foundation
import NBDClient
import Testing

/// NBDClient against a qemu-nbd we start ourselves: writable round trip and a read-only export.
@Suite("NBDClient against qemu-nbd")
struct NBDClientTests {
    static let mib = 1 << 20

    /// A fresh blank qcow2 in a temp folder; the closure gets its path and the folder.
    func withImage(size: String = "64M", _ body: (String, String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vbackup-nbd-\(randomSuffix())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let image = "\(dir)/disk.qcow2"
        try shell("qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=1.1", image, size)
        try body(image, dir)
    }

    @Test func writeZeroFlushReadRoundTrip() throws {
        try withImage { image, dir in
            let server = try QemuNBDServer(image: image, socket: "\(dir)/rw.sock")
            defer { server.stop() }
            let nbd = try NBDConnection(unixSocket: server.socket, exportName: "vda", metaContexts: [NBDContext.baseAllocation])
            #expect(nbd.size == 64 << 20)
            #expect(!nbd.isReadOnly)
            #expect((1 << 20)...(32 << 20) ~= nbd.maxRequest)

            // 40 MiB crosses the 32 MiB request limit, so read and write must split.
            let length = 40 * Self.mib, offset: UInt64 = 4 << 20
            let data = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 16) }
            try data.withUnsafeBytes { try nbd.write($0, at: offset) }
            try nbd.writeZeroes(offset: offset + UInt64(Self.mib), length: UInt64(Self.mib))
            try nbd.flush()

            var back = [UInt8](repeating: 0xff, count: length)
            try back.withUnsafeMutableBytes { try nbd.read(into: $0, at: offset) }
            var expected = data
            expected.replaceSubrange(Self.mib..<(2 * Self.mib), with: repeatElement(0, count: Self.mib))
            #expect(back == expected)

            let extents = try nbd.blockStatus(context: NBDContext.baseAllocation, offset: 0, length: nbd.size)
            #expect(extents.first?.offset == 0)
            #expect(extents.reduce(0) { $0 + $1.length } == nbd.size)
            #expect(extents.contains { $0.offset <= offset && $0.offset + $0.length > offset && $0.flags == 0 })
            #expect(throws: NBDError.self) { _ = try nbd.blockStatus(context: NBDContext.dirtyBitmap("nope"), offset: 0, length: 4096) }

            nbd.close()
            nbd.close()   // idempotent
            let error = #expect(throws: NBDError.self) { try nbd.flush() }
            #expect(error?.errno == EBADF)
            #expect(server.waitForExit() == 0)
        }
    }

    /// A 5 GiB export needs several 2 GiB block-status requests; the result must still be
    /// contiguous, exact, and merged across request boundaries.
    @Test func blockStatusLoopsOverLargeExports() throws {
        try withImage(size: "5G") { image, dir in
            let server = try QemuNBDServer(image: image, socket: "\(dir)/big.sock")
            defer { server.stop() }
            let nbd = try NBDConnection(unixSocket: server.socket, exportName: "vda", metaContexts: [NBDContext.baseAllocation])
            defer { nbd.close() }
            let dataAt: UInt64 = 4608 << 20   // 4.5 GiB, past two request boundaries
            try [UInt8](repeating: 7, count: 64 << 10).withUnsafeBytes { try nbd.write($0, at: dataAt) }
            let free = AllocationFlags.hole | AllocationFlags.zero
            let extents = try nbd.blockStatus(context: NBDContext.baseAllocation, offset: 0, length: nbd.size)
            #expect(extents.map { [$0.offset, $0.length, UInt64($0.flags)] } == [
                [0, dataAt, UInt64(free)],
                [dataAt, 64 << 10, 0],
                [dataAt + (64 << 10), nbd.size - dataAt - (64 << 10), UInt64(free)],
            ])
        }
    }

    @Test func readOnlyExport() throws {
        try withImage { image, dir in
            let server = try QemuNBDServer(image: image, socket: "\(dir)/ro.sock", readOnly: true)
            defer { server.stop() }
            let nbd = try NBDConnection(unixSocket: server.socket, exportName: "vda")
            defer { nbd.close() }
            #expect(nbd.isReadOnly)
            let error = #expect(throws: NBDError.self) {
                try [UInt8](repeating: 1, count: 4096).withUnsafeBytes { try nbd.write($0, at: 0) }
            }
            #expect(error?.message.isEmpty == false)
        }
    }

    @Test func unknownExportFails() throws {
        try withImage { image, dir in
            let server = try QemuNBDServer(image: image, socket: "\(dir)/x.sock")
            defer { server.stop() }
            #expect(throws: NBDError.self) { _ = try NBDConnection(unixSocket: server.socket, exportName: "nope") }
        }
    }
}
