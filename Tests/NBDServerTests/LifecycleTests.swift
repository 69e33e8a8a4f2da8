import Foundation
import Glibc
import NBDClient
import NBDServer
import Testing

/// Connections coming and going, stop(), and who may open the socket.
@Suite("NBDServer lifecycle")
struct LifecycleTests {
    @Test func aClientVanishingMidRequestHarmsNoOne() throws {
        let slow = MemorySource(size: 8 << 20, delay: 0.3)
        try withServer(["disk": slow]) { server, scratch in
            for _ in 0..<3 {
                let client = try RawClient(socket: scratch.socket)
                try client.connect(export: "disk", structured: true)
                for handle in 0..<6 {
                    client.request(RawClient.read, handle: UInt64(handle), offset: UInt64(handle) << 20, length: 1 << 20)
                }
                client.vanish()
            }
            let halfHeader = try RawClient(socket: scratch.socket)
            try halfHeader.connect(export: "disk", structured: false)
            halfHeader.send(be(RawClient.requestMagic) + be(UInt16(0)))
            halfHeader.vanish()

            let nbd = try NBDConnection(unixSocket: scratch.socket, exportName: "disk")
            var buffer = [UInt8](repeating: 0, count: 4096)
            try buffer.withUnsafeMutableBytes { try nbd.read(into: $0, at: 5 << 20) }
            #expect(buffer == slow.slice(5 << 20, 4096))
            nbd.close()

            let started = Date()
            server.stop()
            #expect(Date().timeIntervalSince(started) < 5, "stop waited for abandoned work")
            #expect(!FileManager.default.fileExists(atPath: scratch.socket))
        }
    }

    @Test func stopClosesConnectedClientsAndRemovesTheSocket() throws {
        let slow = MemorySource(size: 8 << 20, delay: 0.5)
        let scratch = try Scratch()
        defer { scratch.remove() }
        let server = try NBDServer(socketPath: scratch.socket, exports: ["disk": slow], socketOwner: nil)
        let idle = try NBDConnection(unixSocket: scratch.socket, exportName: "disk")
        defer { idle.close() }
        let haggling = try RawClient(socket: scratch.socket)
        try haggling.greet()
        let reading = try RawClient(socket: scratch.socket)
        try reading.connect(export: "disk", structured: true)
        reading.request(RawClient.read, handle: 1, offset: 0, length: 1 << 20)
        usleep(100_000)

        let started = Date()
        DispatchQueue.concurrentPerform(iterations: 3) { _ in server.stop() }   // idempotent, any thread
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(!FileManager.default.fileExists(atPath: scratch.socket))
        #expect(haggling.isClosedByServer(timeout: 1))
        #expect(reading.isClosedByServer(timeout: 1))
        var buffer = [UInt8](repeating: 0, count: 512)
        #expect(throws: NBDError.self) { try buffer.withUnsafeMutableBytes { try idle.read(into: $0, at: 0) } }
        #expect(throws: (any Error).self) { _ = try RawClient(socket: scratch.socket) }
        server.stop()
    }

    @Test func onlyLibvirtQemuAndRootMayConnect() throws {
        let source = MemorySource(size: 1 << 20)
        try withServer(["disk": source], owner: "libvirt-qemu") { _, scratch in
            var info = stat()
            #expect(stat(scratch.socket, &info) == 0)
            let qemuUID = getpwnam("libvirt-qemu").pointee.pw_uid
            #expect(info.st_uid == qemuUID)
            #expect(info.st_mode & 0o777 == 0o660)

            let asQemu = try run("/usr/sbin/runuser", ["-u", "libvirt-qemu", "--", "nbdinfo", "--size", scratch.uri("disk")])
            #expect(asQemu.status == 0, "\(asQemu.err)")
            #expect(asQemu.out.trimmingCharacters(in: .whitespacesAndNewlines) == "\(1 << 20)")
            let asNobody = try run("/usr/sbin/runuser", ["-u", "nobody", "--", "nbdinfo", "--size", scratch.uri("disk")])
            #expect(asNobody.status != 0)
        }
    }

    @Test func aPrivateSocketFolderIsOpenedToLibvirtQemuOnlyForSearch() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let folder = scratch.file("private")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        let server = try NBDServer(socketPath: folder + "/nbd.sock", exports: ["disk": MemorySource(size: 1 << 20)])
        defer { server.stop() }
        var info = stat()
        #expect(stat(folder, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o710)
        #expect(info.st_gid == getpwnam("libvirt-qemu").pointee.pw_gid)
        let asQemu = try run("/usr/sbin/runuser", ["-u", "libvirt-qemu", "--", "nbdinfo", "--size",
                                                   "nbd+unix:///disk?socket=\(folder)/nbd.sock"])
        #expect(asQemu.status == 0, "\(asQemu.err)")
    }

    @Test func aStaleSocketIsReplacedButALiveOneOrAFileIsNot() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let exports: [String: any NBDExportSource] = ["disk": MemorySource(size: 1 << 20)]
        // A socket file whose server died: bound, never listening.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(scratch.socket.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(stale)

        let server = try NBDServer(socketPath: scratch.socket, exports: exports, socketOwner: nil)
        #expect(throws: NBDServerError.self) { _ = try NBDServer(socketPath: scratch.socket, exports: exports, socketOwner: nil) }
        let nbd = try NBDConnection(unixSocket: scratch.socket, exportName: "disk")
        #expect(nbd.size == 1 << 20)
        nbd.close()
        server.stop()

        let plain = scratch.file("plain")
        try Data("keep".utf8).write(to: URL(fileURLWithPath: plain))
        #expect(throws: NBDServerError.self) { _ = try NBDServer(socketPath: plain, exports: exports, socketOwner: nil) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: plain)) == Data("keep".utf8))
    }
}
