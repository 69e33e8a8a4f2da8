import CLibvirt
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// LibvirtClient: the only module that imports CLibvirt. Each libvirt object is one final class
// owning its C handle; every failing call goes through `check` (LibvirtError.swift), which turns
// libvirt's thread-local last error into a thrown `LibvirtError`.

/// A connection to a libvirt daemon (e.g. `qemu:///system`).
///
/// `@unchecked Sendable` because libvirt's public API is thread-safe: a `virConnectPtr` may be
/// shared by threads, and errors are kept per thread. The pointer itself never changes.
public final class LibvirtConnection: @unchecked Sendable {
    let pointer: virConnectPtr
    /// Whether libvirt's event loop ran when this connection opened, so that its socket is
    /// watched and events, keepalives and close notices can reach it (see `LibvirtEventLoop`).
    public let receivesEvents: Bool
    /// Set once `onClose` registered a handler, which deinit must unregister: libvirt's close
    /// callback holds a reference to the connection, so without that it would never close.
    let closeHandlerRegistered = LockedFlag()

    /// Opens a read-write connection. With `events`, first starts `LibvirtEventLoop` (which
    /// must precede the open) so the connection can use `watchLifecycle` and `onClose`.
    /// Fails with a message naming the URI when the daemon is not reachable, since libvirt's
    /// own text ("Failed to connect socket…") does not say what to do.
    public init(uri: String, events: Bool = false) throws {
        _ = libvirtInitialized
        if events { try LibvirtEventLoop.start() }
        receivesEvents = LibvirtEventLoop.isRunning
        guard let conn = virConnectOpen(uri) else {
            let err = lastLibvirtError("virConnectOpen failed")
            throw LibvirtError(
                code: err.code, domain: err.domain,
                message: "cannot connect to libvirt at \(uri) (is libvirtd running?): \(err.message)")
        }
        pointer = conn
    }

    deinit {
        if closeHandlerRegistered.value { unregisterCloseHandler() }
        virConnectClose(pointer)
    }

    public var hostname: String {
        get throws { try takeString(virConnectGetHostname(pointer), "virConnectGetHostname failed") }
    }

    /// The daemon's libvirt version (for a remote URI, libvirtd's, not this library's).
    public var libvirtVersion: LibvirtVersion {
        get throws {
            var version: UInt = 0
            try check(virConnectGetLibVersion(pointer, &version), "virConnectGetLibVersion failed")
            return LibvirtVersion(encoded: UInt64(version))
        }
    }

    /// The hypervisor's version as libvirt reports it (QEMU's, for `qemu://`).
    public var hypervisorVersion: LibvirtVersion {
        get throws {
            var version: UInt = 0
            try check(virConnectGetVersion(pointer, &version), "virConnectGetVersion failed")
            return LibvirtVersion(encoded: UInt64(version))
        }
    }

    /// Every domain libvirt knows, running or shut off, persistent or transient.
    public func listAllDomains() throws -> [LibvirtDomain] {
        var list: UnsafeMutablePointer<virDomainPtr?>?
        let count = try check(virConnectListAllDomains(pointer, &list, 0), "virConnectListAllDomains failed")
        defer { free(list) }
        var domains: [LibvirtDomain] = []
        for i in 0..<Int(count) {
            guard let dom = list?[i] else { continue }
            domains.append(try LibvirtDomain(taking: dom))
        }
        return domains
    }

    /// Looks a domain up by name, then, if there is no such name, by UUID string. The error for
    /// an unknown domain is the by-name one (`noDomain`), which is what callers branch on.
    public func lookupDomain(_ nameOrUUID: String) throws -> LibvirtDomain {
        if let dom = virDomainLookupByName(pointer, nameOrUUID) {
            return try LibvirtDomain(taking: dom)
        }
        let byName = lastLibvirtError("virDomainLookupByName failed")
        guard byName.code == LibvirtError.noDomain else { throw byName }
        guard let dom = virDomainLookupByUUIDString(pointer, nameOrUUID) else {
            virResetLastError()
            throw byName
        }
        return try LibvirtDomain(taking: dom)
    }

    /// Defines (or redefines) a persistent domain from XML.
    public func defineDomain(xml: String) throws -> LibvirtDomain {
        let dom = try check(virDomainDefineXML(pointer, xml), "virDomainDefineXML failed")
        return try LibvirtDomain(taking: dom)
    }
}
