import Foundation
import Glibc

/// A hand-written NBD client for what libnbd will not send (it refuses writes to a read-only
/// export and reads past the end itself) and for broken input: it speaks the wire directly.
final class RawClient {
    struct Closed: Error {}
    struct Unexpected: Error, CustomStringConvertible {
        var description: String
    }

    static let requestMagic: UInt32 = 0x2560_9513
    static let optionMagic: UInt64 = 0x4948_4156_454f_5054
    static let read: UInt16 = 0, write: UInt16 = 1, disconnect: UInt16 = 2, flush: UInt16 = 3
    static let trim: UInt16 = 4, cache: UInt16 = 5, writeZeroes: UInt16 = 6, blockStatus: UInt16 = 7

    private let fd: Int32

    init(socket path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        // No close here: every stored property is set, so a throw still runs `deinit`, which
        // closes `fd`. Closing it here too closed it twice, and the second close took whatever
        // a parallel test had opened on the reused number (a crash in another test's pipe).
        guard result == 0 else { throw Unexpected(description: "connect \(path): errno \(errno)") }
    }

    deinit { Glibc.close(fd) }

    func send(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func receive(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + done, count - done, 0) }
            guard n > 0 else { throw Closed() }
            done += n
        }
        return bytes
    }

    /// Whether the server closes the connection within `timeout` seconds (reading and dropping
    /// anything it still sends).
    func isClosedByServer(timeout: Double = 5) -> Bool {
        var timeval = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeval, socklen_t(MemoryLayout<timeval>.size))
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    /// Closes at once, whatever is in flight (a client vanishing).
    func vanish() {
        Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Reads the greeting and answers with fixed-newstyle, no-zeroes client flags.
    func greet() throws {
        let greeting = try receive(18)
        guard Array(greeting[0..<8]) == Array("NBDMAGIC".utf8), Array(greeting[8..<16]) == Array("IHAVEOPT".utf8) else {
            throw Unexpected(description: "bad greeting \(greeting)")
        }
        send(be(UInt32(3)))
    }

    /// Sends an option and returns its replies up to and including the final one.
    func option(_ code: UInt32, _ data: [UInt8] = []) throws -> [(type: UInt32, data: [UInt8])] {
        send(be(Self.optionMagic) + be(code) + be(UInt32(data.count)) + data)
        var replies: [(UInt32, [UInt8])] = []
        while true {
            let header = try receive(20)
            let type = UInt32(bigEndian: header, at: 12)
            replies.append((type, try receive(Int(UInt32(bigEndian: header, at: 16)))))
            if type == 1 || type & 0x8000_0000 != 0 { return replies }
        }
    }

    /// Greets, optionally negotiates structured replies, and enters transmission with GO.
    func connect(export: String, structured: Bool) throws {
        try greet()
        if structured {
            let reply = try option(8)
            guard reply.last?.type == 1 else { throw Unexpected(description: "structured replies refused") }
        }
        let replies = try option(7, be(UInt32(export.utf8.count)) + Array(export.utf8) + be(UInt16(0)))
        guard replies.last?.type == 1 else { throw Unexpected(description: "GO refused: \(replies.map(\.type))") }
    }

    func request(_ type: UInt16, handle: UInt64, offset: UInt64, length: UInt32, flags: UInt16 = 0, payload: [UInt8] = []) {
        send(be(Self.requestMagic) + be(flags) + be(type) + be(handle) + be(offset) + be(length) + payload)
    }

    /// A simple reply's error and handle (no data is read).
    func simpleReply() throws -> (error: UInt32, handle: UInt64) {
        let header = try receive(16)
        guard UInt32(bigEndian: header, at: 0) == 0x6744_6698 else { throw Unexpected(description: "not a simple reply") }
        return (UInt32(bigEndian: header, at: 4), UInt64(bigEndian: header, at: 8))
    }

    /// One structured chunk: flags, type, handle and payload.
    func chunk() throws -> (flags: UInt16, type: UInt16, handle: UInt64, payload: [UInt8]) {
        let header = try receive(20)
        guard UInt32(bigEndian: header, at: 0) == 0x668e_33ef else { throw Unexpected(description: "not a structured reply") }
        let payload = try receive(Int(UInt32(bigEndian: header, at: 16)))
        return (UInt16(bigEndian: header, at: 4), UInt16(bigEndian: header, at: 6), UInt64(bigEndian: header, at: 8), payload)
    }
}

/// Big-endian bytes of an integer.
func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}

extension FixedWidthInteger {
    init(bigEndian bytes: [UInt8], at offset: Int) {
        self = bytes[offset..<offset + MemoryLayout<Self>.size].reduce(0) { $0 << 8 | Self($1) }
    }
}
