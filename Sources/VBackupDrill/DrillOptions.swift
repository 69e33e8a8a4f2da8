import Foundation

/// What `vbackup drill` (or a policy's scheduled drill) was asked to do.
public struct DrillOptions: Sendable {
    public enum Network: String, Sendable, CaseIterable {
        /// Every interface is removed: the sandbox has no network at all.
        case none
        /// Interfaces are attached to a libvirt network the drill creates with no forward mode
        /// (no route out, no DHCP toward the host's LAN) and destroys afterwards.
        case isolated
    }

    public enum DiskMode: String, Sendable, CaseIterable {
        /// qcow2 overlays in the scratch folder over vbackup's read-only NBD export of the point:
        /// nothing is copied, so the time to running does not depend on disk size.
        case overlay
        /// A full restore into the scratch folder first (what a real recovery without instant
        /// restore costs).
        case copy
    }

    /// Globs over VM names (or UUIDs) in the store; empty means every VM with a point.
    public var vmPatterns: [String] = []
    /// Drill this point (needs exactly one VM to match); nil means each VM's newest point.
    public var pointID: String?
    /// Give up on a VM that is not healthy this long after its drill started.
    public var timeout: TimeInterval = 300
    /// After the other checks pass, the domain must still be running this long.
    public var settle: TimeInterval = 3
    /// Leave the sandbox domains, network and files in place for inspection.
    public var keep = false
    public var network: Network = .none
    public var diskMode: DiskMode = .overlay
    /// The scratch folder's parent; each drill makes (and removes) `<parent>/<drill id>/`. Under
    /// /var/lib/libvirt/images so QEMU (as libvirt-qemu) may open the files.
    public var scratchParent = URL(fileURLWithPath: "/var/lib/libvirt/images/vbackup-drills")
    /// A console line matching this regular expression marks the guest healthy; nil skips the
    /// console check.
    public var consolePattern: String?
    /// A console line matching any of these fails the drill at once.
    public var consoleFailurePatterns = ["Kernel panic", "not syncing", "VBGUEST CHECK FAIL"]
    /// Ping the QEMU guest agent when the domain has one configured (skipped otherwise).
    public var guestAgent = true
    /// Run this executable once the other checks pass; exit 0 passes. Its environment names the
    /// sandbox (VBACKUP_DRILL_DOMAIN, VBACKUP_DRILL_VM, VBACKUP_DRILL_POINT, ...).
    public var checkScript: String?
    /// Keep each VM's verdict with its point in the store.
    public var recordInStore = true
    public var isCancelled: @Sendable () -> Bool = { false }
    /// Progress lines for people ("vm: booting", ...); silent by default.
    public var log: @Sendable (String) -> Void = { _ in }

    public init() {}
}
