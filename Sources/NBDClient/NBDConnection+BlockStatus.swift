import CNBD

extension NBDConnection {
    /// NBD block-status lengths are 32-bit; ask for at most 2 GiB so every request (and the
    /// server's answer) stays well inside that, aligned to any sane block size.
    static let maxStatusRequest: UInt64 = 1 << 31

    /// Block status for one context over [offset, offset+length): loops (the server may answer
    /// short; requests are 32-bit, capped at 2 GiB each), and returns contiguous extents covering
    /// exactly the range, neighbours with equal flags merged.
    public func blockStatus(context: String, offset: UInt64, length: UInt64) throws -> [(offset: UInt64, length: UInt64, flags: UInt32)] {
        let h = try liveHandle()
        guard supportsContext(context) else {
            throw NBDError(errno: 0, message: "server did not negotiate meta context \(context)")
        }
        let end = offset + length
        let collector = ExtentCollector(context: context)
        var position = offset
        while position < end {
            let count = min(end - position, Self.maxStatusRequest)
            collector.begin(at: position, limit: position + count)
            let callback = nbd_extent_callback(
                callback: { userData, metaContext, _, entries, count, _ in
                    guard let userData, let metaContext, let entries else { return 0 }
                    let box = Unmanaged<ExtentCollector>.fromOpaque(userData).takeUnretainedValue()
                    box.receive(context: metaContext, entries: UnsafeBufferPointer(start: entries, count: count))
                    return 0
                },
                user_data: Unmanaged.passUnretained(collector).toOpaque(),
                free: nil)
            try withExtendedLifetime(collector) {
                _ = try check(nbd_block_status(h, count, position, callback, 0), "nbd_block_status(\(count) at \(position)) failed")
            }
            guard collector.cursor > position else {
                throw NBDError(errno: 0, message: "server sent no extents for \(context) at \(position)")
            }
            position = collector.cursor
        }
        return collector.extents.map { (offset: $0.offset, length: $0.length, flags: $0.flags) }
    }
}

/// Gathers one context's extents across block-status replies. Handed to libnbd's C callback
/// as unretained user data; the caller keeps it alive for the duration of the synchronous call.
final class ExtentCollector {
    struct Extent { var offset: UInt64; var length: UInt64; var flags: UInt32 }

    let context: String
    private(set) var extents: [Extent] = []
    /// Where the next extent starts; the reply's entries are consecutive from the request offset.
    private(set) var cursor: UInt64 = 0
    private var limit: UInt64 = 0

    init(context: String) { self.context = context }

    func begin(at offset: UInt64, limit: UInt64) {
        cursor = offset
        self.limit = limit
    }

    /// `entries` is {length, flags, length, flags, …}; the last extent may run past the request.
    func receive(context name: UnsafePointer<CChar>, entries: UnsafeBufferPointer<UInt32>) {
        guard String(cString: name) == context else { return }
        var i = 0
        while i + 1 < entries.count, cursor < limit {
            let length = min(UInt64(entries[i]), limit - cursor)
            append(Extent(offset: cursor, length: length, flags: entries[i + 1]))
            cursor += length
            i += 2
        }
    }

    private func append(_ extent: Extent) {
        guard extent.length > 0 else { return }
        if var last = extents.last, last.flags == extent.flags, last.offset + last.length == extent.offset {
            last.length += extent.length
            extents[extents.count - 1] = last
        } else {
            extents.append(extent)
        }
    }
}
