/// A domain's backed-up disks as its XML names them: target and source, no image probing.
/// What the agent reports to the policy server for each VM, read at every inventory refresh,
/// so it must not start a `qemu-img` per disk as `Discovery` does.
public struct DomainDisk: Sendable, Hashable {
    public var target: String
    public var sourcePath: String

    /// The file and block disks of `xml` (cdroms, floppies and network disks are left out, as
    /// the backup leaves them out); empty when the XML cannot be parsed.
    public static func all(xml: String) -> [DomainDisk] {
        ((try? DomainDescription(xml: xml))?.disks ?? []).map { DomainDisk(target: $0.target, sourcePath: $0.sourcePath) }
    }
}
