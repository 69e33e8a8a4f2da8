/// A byte range `[offset, offset + length)` of a disk.
public struct Extent: Codable, Hashable, Sendable, CustomStringConvertible {
    public var offset: UInt64
    public var length: UInt64

    public init(offset: UInt64, length: UInt64) {
        self.offset = offset
        self.length = length
    }

    public var end: UInt64 { offset + length }
    public var isEmpty: Bool { length == 0 }
    public var description: String { "[\(offset), \(end))" }

    /// The overlap of two extents, or nil when they do not overlap.
    public func intersection(_ other: Extent) -> Extent? {
        let start = max(offset, other.offset)
        let stop = min(end, other.end)
        return stop > start ? Extent(offset: start, length: stop - start) : nil
    }
}

/// A sorted set of non-overlapping, non-adjacent extents. The arithmetic the backup needs:
/// "which parts of this chunk are dirty", "which dirty parts read as zero".
public struct ExtentSet: Hashable, Sendable, CustomStringConvertible {
    public private(set) var extents: [Extent] = []

    public init() {}

    /// Builds a normalized set from extents in any order, overlapping or touching.
    public init<S: Sequence>(_ items: S) where S.Element == Extent {
        let sorted = items.filter { !$0.isEmpty }.sorted { $0.offset < $1.offset }
        var merged: [Extent] = []
        for item in sorted {
            if let last = merged.last, item.offset <= last.end {
                merged[merged.count - 1].length = max(last.end, item.end) - last.offset
            } else {
                merged.append(item)
            }
        }
        extents = merged
    }

    public var isEmpty: Bool { extents.isEmpty }
    public var totalLength: UInt64 { extents.reduce(0) { $0 + $1.length } }
    public var description: String { extents.map(\.description).joined(separator: " ") }

    public func intersection(_ other: ExtentSet) -> ExtentSet {
        var result: [Extent] = []
        var i = 0, j = 0
        while i < extents.count && j < other.extents.count {
            if let overlap = extents[i].intersection(other.extents[j]) { result.append(overlap) }
            if extents[i].end < other.extents[j].end { i += 1 } else { j += 1 }
        }
        return ExtentSet(result)
    }

    public func subtracting(_ other: ExtentSet) -> ExtentSet {
        var result: [Extent] = []
        var j = 0
        for extent in extents {
            var cursor = extent.offset
            while j < other.extents.count && other.extents[j].end <= cursor { j += 1 }
            var k = j
            while k < other.extents.count && other.extents[k].offset < extent.end {
                let cut = other.extents[k]
                if cut.offset > cursor { result.append(Extent(offset: cursor, length: cut.offset - cursor)) }
                cursor = max(cursor, cut.end)
                k += 1
            }
            if cursor < extent.end { result.append(Extent(offset: cursor, length: extent.end - cursor)) }
        }
        return ExtentSet(result)
    }

    public func contains(_ extent: Extent) -> Bool {
        ExtentSet([extent]).subtracting(self).isEmpty
    }
}

extension ExtentSet {
    /// The set's extents cut at every multiple of `chunkSize` and grouped by chunk number:
    /// the per-chunk view a fixed-size chunker needs, computed in one pass.
    public func bucketed(chunkSize: UInt64) -> [Int: [Extent]] {
        precondition(chunkSize > 0)
        var buckets: [Int: [Extent]] = [:]
        for extent in extents {
            var cursor = extent.offset
            while cursor < extent.end {
                let chunk = cursor / chunkSize
                let stop = min(extent.end, (chunk + 1) * chunkSize)
                buckets[Int(chunk), default: []].append(Extent(offset: cursor, length: stop - cursor))
                cursor = stop
            }
        }
        return buckets
    }
}
