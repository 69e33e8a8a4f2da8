/// Transmission-phase replies for one connection: simple replies, or structured chunks once the
/// client negotiated them. Each reply goes out as one `StreamSocket.write`, so replies that
/// workers finish at the same time never interleave.
struct Replies {
    let socket: StreamSocket
    let structured: Bool

    /// Room to leave in front of read data for the reply header, so the data is never copied.
    var readHeaderSize: Int {
        structured ? NBDWire.structuredReplyHeaderSize + 8 : NBDWire.simpleReplyHeaderSize
    }

    /// Sends `buffer`, whose first `readHeaderSize` bytes are free and the rest holds the data
    /// read at `offset`: one OFFSET_DATA chunk marked done, or a simple reply followed by data.
    func sendData(_ buffer: UnsafeMutableRawBufferPointer, handle: UInt64, offset: UInt64) throws {
        let dataLength = buffer.count - readHeaderSize
        if structured {
            storeBigEndian(NBDWire.structuredReplyMagic, into: buffer, at: 0)
            storeBigEndian(NBDReplyFlag.done, into: buffer, at: 4)
            storeBigEndian(NBDReplyType.offsetData.rawValue, into: buffer, at: 6)
            storeBigEndian(handle, into: buffer, at: 8)
            storeBigEndian(UInt32(8 + dataLength), into: buffer, at: 16)
            storeBigEndian(offset, into: buffer, at: 20)
        } else {
            storeBigEndian(NBDWire.simpleReplyMagic, into: buffer, at: 0)
            storeBigEndian(UInt32(0), into: buffer, at: 4)
            storeBigEndian(handle, into: buffer, at: 8)
        }
        try socket.write(UnsafeRawBufferPointer(buffer))
    }

    /// Success without data.
    func sendDone(handle: UInt64) throws {
        if structured {
            try socket.write(chunkHeader(.none, handle: handle, length: 0))
        } else {
            try socket.write(simpleHeader(error: 0, handle: handle))
        }
    }

    /// An error; with structured replies it carries `message` for the person at the client.
    func sendError(_ error: NBDErrno, handle: UInt64, message: String) throws {
        guard structured else { return try socket.write(simpleHeader(error: error.rawValue, handle: handle)) }
        let text = Array(message.utf8.prefix(4096))
        var writer = WireWriter(capacity: 26 + text.count)
        writer.append(chunkHeader(.error, handle: handle, length: UInt32(6 + text.count)))
        writer.append(error.rawValue)
        writer.append(UInt16(text.count))
        writer.append(text)
        try socket.write(writer.bytes)
    }

    /// One BLOCK_STATUS chunk for `context`, marked done: (length, flags) descriptors.
    func sendBlockStatus(_ descriptors: [(length: UInt32, flags: UInt32)], context: UInt32, handle: UInt64) throws {
        var writer = WireWriter(capacity: 24 + 8 * descriptors.count)
        writer.append(chunkHeader(.blockStatus, handle: handle, length: UInt32(4 + 8 * descriptors.count)))
        writer.append(context)
        for descriptor in descriptors {
            writer.append(descriptor.length)
            writer.append(descriptor.flags)
        }
        try socket.write(writer.bytes)
    }

    private func simpleHeader(error: UInt32, handle: UInt64) -> [UInt8] {
        var writer = WireWriter(capacity: NBDWire.simpleReplyHeaderSize)
        writer.append(NBDWire.simpleReplyMagic)
        writer.append(error)
        writer.append(handle)
        return writer.bytes
    }

    private func chunkHeader(_ type: NBDReplyType, handle: UInt64, length: UInt32) -> [UInt8] {
        var writer = WireWriter(capacity: NBDWire.structuredReplyHeaderSize)
        writer.append(NBDWire.structuredReplyMagic)
        writer.append(NBDReplyFlag.done)
        writer.append(type.rawValue)
        writer.append(handle)
        writer.append(length)
        return writer.bytes
    }
}
