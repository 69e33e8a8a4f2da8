/// One disk's cumulative I/O counters since its QEMU process started, as QEMU's device model
/// accounts them: only requests the guest issued through the virtual device count (the block
/// layer's own traffic, such as a backup job's or HMP `qemu-io`'s, does not).
///
/// Times are the summed wall-clock durations of the completed requests, in nanoseconds, so
/// time over operations between two samples is the average latency the guest saw.
public struct BlockStats: Sendable, Equatable {
    public var readOps: UInt64 = 0
    public var readBytes: UInt64 = 0
    public var readTimeNs: UInt64 = 0
    public var writeOps: UInt64 = 0
    public var writeBytes: UInt64 = 0
    public var writeTimeNs: UInt64 = 0
    public var flushOps: UInt64 = 0
    public var flushTimeNs: UInt64 = 0

    public init(readOps: UInt64 = 0, readBytes: UInt64 = 0, readTimeNs: UInt64 = 0,
                writeOps: UInt64 = 0, writeBytes: UInt64 = 0, writeTimeNs: UInt64 = 0,
                flushOps: UInt64 = 0, flushTimeNs: UInt64 = 0) {
        self.readOps = readOps
        self.readBytes = readBytes
        self.readTimeNs = readTimeNs
        self.writeOps = writeOps
        self.writeBytes = writeBytes
        self.writeTimeNs = writeTimeNs
        self.flushOps = flushOps
        self.flushTimeNs = flushTimeNs
    }

    /// Average read and write latency per operation between `earlier` and this sample, in
    /// milliseconds (nil when no operation of that kind completed), and how many operations
    /// (reads, writes and flushes) completed in between.
    ///
    /// Counters restart from zero when the domain's QEMU restarts: if any counter went
    /// backwards, the interval is taken to have begun at that restart (from zero).
    public func latency(since earlier: BlockStats) -> (readMs: Double?, writeMs: Double?, ops: UInt64) {
        let base = isCounterwiseAtLeast(earlier) ? earlier : BlockStats()
        let reads = readOps - base.readOps, writes = writeOps - base.writeOps
        let flushes = flushOps - base.flushOps
        return (Self.averageMs(readTimeNs - base.readTimeNs, over: reads),
                Self.averageMs(writeTimeNs - base.writeTimeNs, over: writes),
                reads + writes + flushes)
    }

    private func isCounterwiseAtLeast(_ other: BlockStats) -> Bool {
        readOps >= other.readOps && readBytes >= other.readBytes && readTimeNs >= other.readTimeNs
            && writeOps >= other.writeOps && writeBytes >= other.writeBytes && writeTimeNs >= other.writeTimeNs
            && flushOps >= other.flushOps && flushTimeNs >= other.flushTimeNs
    }

    private static func averageMs(_ nanoseconds: UInt64, over ops: UInt64) -> Double? {
        ops == 0 ? nil : Double(nanoseconds) / Double(ops) / 1_000_000
    }
}
