/// Turns a source's extents into `base:allocation` descriptors for one block-status request.
enum AllocationMap {
    /// Descriptors starting at the request's offset, covering at most `length` bytes and at
    /// least one: zero extents are hole|zero (3), data is 0. Neighbours with equal flags merge;
    /// zero-length extents are skipped; a source that says nothing (nil or empty) means data.
    static func descriptors(_ extents: [NBDExtent]?, length: UInt32, onlyOne: Bool) -> [(length: UInt32, flags: UInt32)] {
        var result: [(length: UInt32, flags: UInt32)] = []
        var covered: UInt32 = 0
        for extent in extents ?? [] where extent.length > 0 {
            guard covered < length else { break }
            let size = UInt32(min(extent.length, UInt64(length - covered)))
            let flags = extent.isZero ? NBDAllocation.hole | NBDAllocation.zero : 0
            if let last = result.last, last.flags == flags {
                result[result.count - 1].length += size
            } else {
                if onlyOne && !result.isEmpty { break }
                if result.count == NBDLimits.maximumExtents { break }
                result.append((size, flags))
            }
            covered += size
        }
        return result.isEmpty ? [(length, UInt32(0))] : result
    }
}
