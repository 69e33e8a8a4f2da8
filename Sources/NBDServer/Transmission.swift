import Dispatch

/// One request header off the wire.
struct NBDRequest {
    var flags: UInt16
    var type: UInt16
    var handle: UInt64
    var offset: UInt64
    var length: UInt32
}

/// The transmission phase of one connection. The connection's thread reads requests in order;
/// reads run on worker threads, up to `maxReadsInFlight` at a time per connection (QEMU keeps
/// several requests outstanding on its single connection, and decoding chunks is CPU work worth
/// spreading over cores), and their replies go out as they finish, matched by handle.
/// Everything else is answered inline.
final class Transmission: @unchecked Sendable {
    static let maxReadsInFlight = 4

    private let socket: StreamSocket
    private let negotiated: Negotiated
    private let replies: Replies
    private let budget: ReadBudget
    private let pool: BufferPool
    private let inFlight = DispatchGroup()
    private let slots = DispatchSemaphore(value: maxReadsInFlight)

    init(socket: StreamSocket, negotiated: Negotiated, budget: ReadBudget, pool: BufferPool) {
        self.socket = socket
        self.negotiated = negotiated
        self.replies = Replies(socket: socket, structured: negotiated.structuredReplies)
        self.budget = budget
        self.pool = pool
    }

    private var source: any NBDExportSource { negotiated.source }

    /// Serves requests until the client disconnects (or breaks the protocol, or the socket is
    /// shut down); returns only once every started read has replied or failed.
    func run() throws {
        defer { inFlight.wait() }
        while true {
            let request = try readRequest()
            guard let command = NBDCommand(rawValue: request.type) else {
                try replies.sendError(.einval, handle: request.handle, message: "unknown command \(request.type)")
                continue
            }
            switch command {
            case .disconnect:
                return
            case .read:
                try read(request)
            case .blockStatus:
                try blockStatus(request)
            case .flush:
                try replies.sendDone(handle: request.handle)
            case .write:
                // The payload follows the header and must be consumed to stay in step.
                guard request.length <= NBDLimits.maximumBlock else { throw SessionEnd.malformed("write of \(request.length) bytes") }
                try socket.discard(count: Int(request.length))
                try replies.sendError(.eperm, handle: request.handle, message: "the export is read-only")
            case .trim, .writeZeroes, .cache:
                try replies.sendError(.eperm, handle: request.handle, message: "the export is read-only")
            }
        }
    }

    private func readRequest() throws -> NBDRequest {
        var reader = WireReader(try socket.read(count: NBDWire.requestHeaderSize))
        do {
            let magic: UInt32 = try reader.read()
            guard magic == NBDWire.requestMagic else { throw SessionEnd.malformed("bad request magic") }
            return NBDRequest(flags: try reader.read(), type: try reader.read(), handle: try reader.read(),
                              offset: try reader.read(), length: try reader.read())
        } catch let end as SessionEnd {
            throw end
        } catch {
            throw SessionEnd.malformed("truncated request")
        }
    }

    /// Whether `[offset, offset + length)` lies inside the export.
    private func inBounds(_ request: NBDRequest) -> Bool {
        request.offset <= source.size && UInt64(request.length) <= source.size - request.offset
    }

    private func read(_ request: NBDRequest) throws {
        let allowed = negotiated.structuredReplies ? NBDCommandFlag.dontFragment : 0
        if let refusal = refusal(request, allowedFlags: allowed) {
            return try replies.sendError(.einval, handle: request.handle, message: refusal)
        }
        guard request.length <= NBDLimits.maximumBlock else {
            return try replies.sendError(.einval, handle: request.handle,
                                         message: "read of \(request.length) bytes exceeds \(NBDLimits.maximumBlock)")
        }
        guard request.length > 0 else { return try replies.sendDone(handle: request.handle) }
        let total = replies.readHeaderSize + Int(request.length)
        slots.wait()
        budget.acquire(total)
        inFlight.enter()
        DispatchQueue.global().async { [self] in
            defer {
                budget.release(total)
                slots.signal()
                inFlight.leave()
            }
            serve(request, bufferSize: total)
        }
    }

    /// Runs on a worker: reads into the reply buffer behind room for its header, then sends.
    /// A send failure has already shut the socket down, which ends the request loop.
    private func serve(_ request: NBDRequest, bufferSize: Int) {
        let pooled = pool.take(payload: Int(request.length))
        defer { pool.give(pooled) }
        let buffer = pooled.bytes(bufferSize)
        let data = UnsafeMutableRawBufferPointer(rebasing: buffer[replies.readHeaderSize...])
        do {
            try source.read(into: data, at: request.offset)
        } catch {
            try? replies.sendError(.eio, handle: request.handle, message: "\(error)")
            return
        }
        try? replies.sendData(buffer, handle: request.handle, offset: request.offset)
    }

    private func blockStatus(_ request: NBDRequest) throws {
        guard let context = negotiated.allocationContext else {
            return try replies.sendError(.einval, handle: request.handle, message: "no meta context was selected")
        }
        if let refusal = refusal(request, allowedFlags: NBDCommandFlag.requestOne) {
            return try replies.sendError(.einval, handle: request.handle, message: refusal)
        }
        guard request.length > 0 else {
            return try replies.sendError(.einval, handle: request.handle, message: "block status of 0 bytes")
        }
        let descriptors = AllocationMap.descriptors(
            source.extents(at: request.offset, length: UInt64(request.length)),
            length: request.length, onlyOne: request.flags & NBDCommandFlag.requestOne != 0)
        try replies.sendBlockStatus(descriptors, context: context, handle: request.handle)
    }

    /// Why a request with these flags and this range is invalid, or nil when it is fine.
    private func refusal(_ request: NBDRequest, allowedFlags: UInt16) -> String? {
        if request.flags & ~allowedFlags != 0 { return "flags \(request.flags) are not valid here" }
        if !inBounds(request) {
            return "bytes \(request.offset)+\(request.length) lie past the end of the export (\(source.size) bytes)"
        }
        return nil
    }
}
