/// What an NBD export serves: a fixed-size, read-only byte range. The server knows nothing of
/// where the bytes come from (a point in the store, a test buffer); the source knows nothing of
/// the protocol.
///
/// Called from several connection threads at once.
public protocol NBDExportSource: AnyObject, Sendable {
    /// The export's size in bytes.
    var size: UInt64 { get }

    /// Fills `buffer` with the bytes at `offset` (the server never asks past `size`). A thrown
    /// error becomes an `EIO` reply for that request only; the connection stays up.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws

    /// The extents of `[offset, offset + length)`, in order, that read as zeros or hold data,
    /// for `base:allocation` block status (so clients such as QEMU's block-stream skip holes).
    /// May describe less than `length` (at least one byte); `nil` means "all data".
    func extents(at offset: UInt64, length: UInt64) -> [NBDExtent]?
}

/// A run of bytes and whether it reads as zeros.
public struct NBDExtent: Equatable, Sendable {
    public var length: UInt64
    public var isZero: Bool

    public init(length: UInt64, isZero: Bool) {
        self.length = length
        self.isZero = isZero
    }
}
