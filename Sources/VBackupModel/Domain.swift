/// A libvirt domain as vbackup sees it: enough to decide how to back it up.
public struct DomainInfo: Codable, Hashable, Sendable {
    public enum State: String, Codable, Sendable {
        case running, paused, shutoff, other
    }

    public var name: String
    public var uuid: String
    public var state: State
    public var persistent: Bool
    public var disks: [DiskInfo]
    /// vbackup tags from the domain's metadata (what policies select with `select: tags:`).
    public var tags: [String]

    public init(name: String, uuid: String, state: State, persistent: Bool, disks: [DiskInfo], tags: [String] = []) {
        self.name = name
        self.uuid = uuid
        self.state = state
        self.persistent = persistent
        self.disks = disks
        self.tags = tags
    }
}

/// One disk of a domain (cdroms, floppies and network disks are not listed).
public struct DiskInfo: Codable, Hashable, Sendable {
    /// How a disk can be backed up.
    public enum Capability: String, Codable, Sendable {
        /// qcow2 v3: checkpoints and dirty bitmaps, so incrementals read only what changed.
        case incremental
        /// raw (or qcow2 v2): every backup reads the allocated data in full.
        case fullOnly = "full-only"
    }

    public var target: String
    public var sourcePath: String
    public var format: String
    public var virtualSize: UInt64
    public var capability: Capability

    public init(target: String, sourcePath: String, format: String, virtualSize: UInt64, capability: Capability) {
        self.target = target
        self.sourcePath = sourcePath
        self.format = format
        self.virtualSize = virtualSize
        self.capability = capability
    }
}
