import CLibvirt

/// One domain checkpoint: libvirt's metadata for a set of persistent dirty bitmaps in the disks.
///
/// `@unchecked Sendable`: libvirt object handles are thread-safe and this class has no mutable state.
public final class LibvirtCheckpoint: @unchecked Sendable {
    let pointer: virDomainCheckpointPtr
    public let name: String

    init(taking pointer: virDomainCheckpointPtr) {
        self.pointer = pointer
        name = virDomainCheckpointGetName(pointer).map { String(cString: $0) } ?? ""
    }

    deinit { virDomainCheckpointFree(pointer) }

    /// The checkpoint XML. `noDomain` leaves out the embedded domain definition, which is what
    /// a redefine on another UUID (or a smaller saved file) needs.
    public func xml(noDomain: Bool = true) throws -> String {
        let flags = noDomain ? VIR_DOMAIN_CHECKPOINT_XML_NO_DOMAIN.rawValue : 0
        return try takeString(virDomainCheckpointGetXMLDesc(pointer, flags), "virDomainCheckpointGetXMLDesc(\(name)) failed")
    }

    /// Deletes the checkpoint and, unless `metadataOnly`, its bitmaps (that needs a running
    /// domain). Metadata-only is the recovery path when the bitmap is missing or inconsistent.
    public func delete(metadataOnly: Bool) throws {
        let flags = metadataOnly ? VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY.rawValue : 0
        try check(virDomainCheckpointDelete(pointer, flags), "virDomainCheckpointDelete(\(name)) failed")
    }
}
