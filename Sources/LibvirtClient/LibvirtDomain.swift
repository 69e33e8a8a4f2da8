import CLibvirt

public enum DomainRunState: Sendable, Equatable {
    case running, paused, shutoff, other(Int32)
}

/// One libvirt domain. Owns its `virDomainPtr` (freed in deinit); the pointer keeps its
/// connection alive inside libvirt, so a domain outliving its `LibvirtConnection` is safe.
///
/// `@unchecked Sendable`: libvirt object handles are thread-safe and this class has no mutable state.
public final class LibvirtDomain: @unchecked Sendable {
    let pointer: virDomainPtr
    /// Name and UUID never change for a domain object, so they are read once here.
    public let name: String
    public let uuid: String

    init(taking pointer: virDomainPtr) throws {
        self.pointer = pointer
        guard let cName = virDomainGetName(pointer) else {
            let err = lastLibvirtError("virDomainGetName failed")
            virDomainFree(pointer)
            throw err
        }
        name = String(cString: cName)
        guard let uuid = uuidString(of: pointer) else {
            let err = lastLibvirtError("virDomainGetUUIDString failed")
            virDomainFree(pointer)
            throw err
        }
        self.uuid = uuid
    }

    deinit { virDomainFree(pointer) }

    public func runState() throws -> DomainRunState {
        var state: Int32 = 0
        var reason: Int32 = 0
        try check(virDomainGetState(pointer, &state, &reason, 0), "virDomainGetState(\(name)) failed")
        switch UInt32(bitPattern: state) {
        case VIR_DOMAIN_RUNNING.rawValue: return .running
        case VIR_DOMAIN_PAUSED.rawValue: return .paused
        case VIR_DOMAIN_SHUTOFF.rawValue: return .shutoff
        default: return .other(state)
        }
    }

    /// Running or paused: has a QEMU process (so live XML, block stats, backups apply).
    public var isActive: Bool {
        get throws { try check(virDomainIsActive(pointer), "virDomainIsActive(\(name)) failed") == 1 }
    }

    public var isPersistent: Bool {
        get throws { try check(virDomainIsPersistent(pointer), "virDomainIsPersistent(\(name)) failed") == 1 }
    }

    /// The domain XML. `inactive` gives the persistent definition (what the next boot uses);
    /// `secure` includes passwords and other secrets, which a backup of the config needs.
    public func xml(inactive: Bool = false, secure: Bool = true) throws -> String {
        var flags: UInt32 = 0
        if inactive { flags |= VIR_DOMAIN_XML_INACTIVE.rawValue }
        if secure { flags |= VIR_DOMAIN_XML_SECURE.rawValue }
        return try takeString(virDomainGetXMLDesc(pointer, flags), "virDomainGetXMLDesc(\(name)) failed")
    }

    public func start() throws { try check(virDomainCreate(pointer), "virDomainCreate(\(name)) failed") }
    /// Hard stop (SIGTERM to QEMU, so persistent bitmaps are still flushed).
    public func destroy() throws { try check(virDomainDestroy(pointer), "virDomainDestroy(\(name)) failed") }
    public func suspend() throws { try check(virDomainSuspend(pointer), "virDomainSuspend(\(name)) failed") }
    public func resume() throws { try check(virDomainResume(pointer), "virDomainResume(\(name)) failed") }

    /// Removes the persistent definition. libvirt refuses a domain with checkpoints (snapshots)
    /// unless `checkpointsMetadata` (`snapshotsMetadata`) is set; the bitmaps (internal
    /// snapshots) themselves stay in the qcow2 files.
    public func undefine(checkpointsMetadata: Bool, nvram: Bool, snapshotsMetadata: Bool = false) throws {
        var flags: UInt32 = 0
        if checkpointsMetadata { flags |= VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA.rawValue }
        if snapshotsMetadata { flags |= VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue }
        if nvram { flags |= VIR_DOMAIN_UNDEFINE_NVRAM.rawValue }
        try check(virDomainUndefineFlags(pointer, flags), "virDomainUndefineFlags(\(name)) failed")
    }
}

/// A domain handle's UUID in its 36-character text form; nil (libvirt's error set) on failure.
func uuidString(of pointer: virDomainPtr) -> String? {
    var buf = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
    guard virDomainGetUUIDString(pointer, &buf) == 0 else { return nil }
    return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
