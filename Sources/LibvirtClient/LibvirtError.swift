import CLibvirt
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one error type of this module: libvirt's own error code, domain and message, read from
/// `virGetLastError()` right after the failing call (it is thread-local, so that is safe).
public struct LibvirtError: Error, CustomStringConvertible, Sendable {
    /// A `virErrorNumber` value (`VIR_ERR_*`).
    public let code: Int32
    /// A `virErrorDomain` value (`VIR_FROM_*`): which part of libvirt reported it.
    public let domain: Int32
    public let message: String

    public init(code: Int32, domain: Int32, message: String) {
        self.code = code
        self.domain = domain
        self.message = message
    }

    public var description: String { "libvirt error \(code) (domain \(domain)): \(message)" }

    // Codes callers branch on. Values are those of libvirt 9.0's virterror.h; they are ABI and never change.
    public static let internalError: Int32 = 1
    public static let noConnect: Int32 = 5
    public static let operationFailed: Int32 = 9
    public static let xmlError: Int32 = 27
    public static let systemError: Int32 = 38
    public static let noDomain: Int32 = 42
    public static let operationInvalid: Int32 = 55
    public static let noDomainMetadata: Int32 = 80
    public static let configUnsupported: Int32 = 67
    public static let argumentUnsupported: Int32 = 74
    public static let operationUnsupported: Int32 = 84
    public static let agentUnresponsive: Int32 = 86
    public static let noNetwork: Int32 = 43
    public static let noDomainCheckpoint: Int32 = 103
    public static let noDomainBackup: Int32 = 104
    public static let checkpointInconsistent: Int32 = 109
}

/// Silences libvirt's default handler, which prints every error to stderr; errors reach the
/// caller as thrown `LibvirtError`s instead. Evaluated once, before the first connection.
let libvirtInitialized: Void = {
    _ = virInitialize()
    virSetErrorFunc(nil) { _, _ in }
}()

/// Turns libvirt's last error into a `LibvirtError` and clears it, so a later failure never
/// reports a stale message.
func lastLibvirtError(_ fallback: String) -> LibvirtError {
    defer { virResetLastError() }
    guard let err = virGetLastError() else {
        return LibvirtError(code: LibvirtError.internalError, domain: 0, message: fallback)
    }
    let message = err.pointee.message.map { String(cString: $0) } ?? fallback
    return LibvirtError(code: Int32(err.pointee.code), domain: Int32(err.pointee.domain), message: message)
}

/// The gate every libvirt call returning an int goes through: -1 means failure.
@discardableResult
func check(_ result: Int32, _ what: @autoclosure () -> String) throws(LibvirtError) -> Int32 {
    guard result >= 0 else { throw lastLibvirtError(what()) }
    return result
}

/// The gate for calls returning a pointer: NULL means failure.
func check<T>(_ result: T?, _ what: @autoclosure () -> String) throws(LibvirtError) -> T {
    guard let result else { throw lastLibvirtError(what()) }
    return result
}

/// Takes ownership of a malloc'd C string that libvirt returned, copying and freeing it.
func takeString(_ pointer: UnsafeMutablePointer<CChar>?, _ what: @autoclosure () -> String) throws(LibvirtError) -> String {
    let p = try check(pointer, what())
    defer { free(p) }
    return String(cString: p)
}
