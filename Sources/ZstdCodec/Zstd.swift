import CZstd
import Foundation

/// One-shot zstd compression for whole chunks.
///
/// This is the only module that imports `CZstd`: the rest of vbackup sees Swift buffers and a
/// typed error. Every call may run on any thread: contexts come from `ContextPool`, so the
/// (costly) context allocation is paid once per concurrently running thread, not per chunk.
public enum Zstd {
    /// Compresses `src` into a single zstd frame (with the content size recorded).
    ///
    /// `checksum` adds zstd's 4-byte content checksum to the frame, for payloads that have no
    /// stronger check of their own (chunks are verified by SHA-256 and do without).
    public static func compress(_ src: UnsafeRawBufferPointer, level: Int32 = 1, checksum: Bool = false) -> Data {
        var out = Data(count: compressBound(src.count))
        let written = out.withUnsafeMutableBytes { compress(src, into: $0, level: level, checksum: checksum) }
        out.count = written
        return out
    }

    /// The most bytes a frame of `count` input bytes can take.
    public static func compressBound(_ count: Int) -> Int { ZSTD_compressBound(count) }

    /// Compresses `src` into `dst` (at least `compressBound(src.count)` bytes), for a caller
    /// that puts the frame straight into its own buffer; returns the frame's size.
    public static func compress(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer,
                                level: Int32 = 1, checksum: Bool = false) -> Int {
        precondition(dst.count >= compressBound(src.count), "zstd output buffer below compressBound")
        let written = ContextPool.compression.withContext { cctx in
            // Pooled contexts keep their parameters: set every one on every call.
            ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters)
            ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
            ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0)
            return ZSTD_compress2(cctx, dst.baseAddress, dst.count, src.baseAddress, src.count)
        }
        // With a buffer of ZSTD_compressBound bytes, compression can only fail on a library bug
        // (e.g. allocation failure); there is nothing a caller could do about it.
        precondition(ZSTD_isError(written) == 0, "zstd compression failed: \(errorName(written))")
        return written
    }

    /// Compresses `src` (convenience for callers holding `Data`).
    public static func compress(_ src: Data, level: Int32 = 1, checksum: Bool = false) -> Data {
        src.withUnsafeBytes { compress($0, level: level, checksum: checksum) }
    }

    /// Decompresses one frame that must expand to exactly `rawLength` bytes.
    ///
    /// The caller knows the raw length from its own metadata, so a frame that decodes to any
    /// other size is reported as an error rather than trusted.
    public static func decompress(_ src: UnsafeRawBufferPointer, rawLength: Int) throws -> Data {
        var out = Data(count: rawLength)
        let written = ContextPool.decompression.withContext { dctx in
            out.withUnsafeMutableBytes { dst in
                ZSTD_decompressDCtx(dctx, dst.baseAddress, rawLength, src.baseAddress, src.count)
            }
        }
        if ZSTD_isError(written) != 0 {
            throw ZstdError(code: written, message: errorName(written))
        }
        guard written == rawLength else {
            throw ZstdError(code: 0, message: "frame decoded to \(written) bytes, expected \(rawLength)")
        }
        return out
    }

    /// Decompresses `src` (convenience for callers holding `Data`).
    public static func decompress(_ src: Data, rawLength: Int) throws -> Data {
        try src.withUnsafeBytes { try decompress($0, rawLength: rawLength) }
    }

    static func errorName(_ code: Int) -> String {
        String(cString: ZSTD_getErrorName(code))
    }
}

/// A zstd failure: the library's error code (0 when the check was ours) and its message.
public struct ZstdError: Error, Equatable, CustomStringConvertible {
    public let code: Int
    public let message: String

    public var description: String { "zstd: \(message)" }
}
