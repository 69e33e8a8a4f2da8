/// NBD metadata context names (NBD protocol spec; QEMU `docs/interop/nbd.rst`).
public enum NBDContext {
    /// Allocation status; flags are `AllocationFlags`.
    public static let baseAllocation = "base:allocation"

    /// A QEMU dirty bitmap; flag bit 0 set means dirty. libvirt's incremental pull export
    /// names its bitmap `backup-<target>`, e.g. `dirtyBitmap("backup-vda")`.
    public static func dirtyBitmap(_ name: String) -> String { "qemu:dirty-bitmap:\(name)" }
}

/// Flags of the `base:allocation` context.
public enum AllocationFlags {
    /// Not allocated: reads as zero unless the image has a backing file.
    public static let hole: UInt32 = 1
    /// Reads as zero (allocated or not).
    public static let zero: UInt32 = 2
}

/// Flags of a `qemu:dirty-bitmap:*` context.
public enum DirtyBitmapFlags {
    public static let dirty: UInt32 = 1
}
