import CLibvirt
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// vbackup's tags, kept in the domain's own XML so they travel with it (redefinition,
/// migration, `virsh dumpxml`) and need no database of their own.
extension LibvirtDomain {
    /// The domain's vbackup tags, `[]` when it has none. By default the live definition when
    /// running (else the persistent one); `inactive` reads the persistent one, what the next
    /// boot will have.
    public func vbackupTags(inactive: Bool = false) throws -> [String] {
        let flags = inactive ? VIR_DOMAIN_AFFECT_CONFIG.rawValue : VIR_DOMAIN_AFFECT_CURRENT.rawValue
        let type = Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue)
        guard let element = virDomainGetMetadata(pointer, type, VbackupMetadata.namespaceURI, flags) else {
            let err = lastLibvirtError("virDomainGetMetadata(\(name)) failed")
            if err.code == LibvirtError.noDomainMetadata { return [] }
            throw err
        }
        defer { free(element) }
        return try VbackupMetadata.tags(in: String(cString: element))
    }

    /// Replaces the domain's vbackup tags (trimmed, without empties or repeats); `[]` removes
    /// the element. Written to the persistent definition, and to the live one too when running,
    /// so both readings agree at once and after the next boot.
    public func setVbackupTags(_ tags: [String]) throws {
        var flags: UInt32 = 0
        if try isPersistent { flags |= VIR_DOMAIN_AFFECT_CONFIG.rawValue }
        if try isActive { flags |= VIR_DOMAIN_AFFECT_LIVE.rawValue }
        let normalized = VbackupMetadata.normalized(tags)
        let element = normalized.isEmpty ? nil : VbackupMetadata.element(tags: normalized)
        try check(virDomainSetMetadata(pointer, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue), element,
                                       VbackupMetadata.prefix, VbackupMetadata.namespaceURI, flags),
                  "virDomainSetMetadata(\(name)) failed")
    }
}
