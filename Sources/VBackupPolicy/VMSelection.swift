/// What the agent knows about a VM when it picks a policy for it.
public struct VMFacts: Hashable, Sendable {
    public var name: String
    public var uuid: String
    /// The VM's tags from its libvirt metadata.
    public var tags: [String]
    /// The name of the host the VM runs on.
    public var host: String

    public init(name: String, uuid: String, tags: [String] = [], host: String) {
        self.name = name
        self.uuid = uuid
        self.tags = tags
        self.host = host
    }
}

/// One entry of `select.vms` or `select.exclude`: a name glob, which also matches a VM whose
/// UUID it spells exactly (case-insensitively), so a VM can be named by UUID across renames.
public struct VMPattern: Hashable, Sendable, CustomStringConvertible {
    public let glob: Glob

    init(_ text: String) throws(PolicyValueError) {
        glob = try Glob(text)
    }

    public func matches(name: String, uuid: String) -> Bool {
        glob.matches(name) || glob.pattern.lowercased() == uuid.lowercased()
    }

    public var description: String { glob.pattern }
}

/// The `select:` section: which VMs, on which hosts, a policy covers. Each absent criterion
/// lets everything through; `exclude` wins over the others.
public struct VMSelection: Hashable, Sendable, CustomStringConvertible {
    /// Names (globs) or UUIDs; nil = every VM.
    public var vms: [VMPattern]?
    /// The VM must carry at least one of these tags; nil = tags do not matter.
    public var tags: [String]?
    /// Host name globs; nil = every host.
    public var hosts: [Glob]?
    public var exclude: [VMPattern]

    public init(vms: [VMPattern]? = nil, tags: [String]? = nil, hosts: [Glob]? = nil, exclude: [VMPattern] = []) {
        self.vms = vms
        self.tags = tags
        self.hosts = hosts
        self.exclude = exclude
    }

    public func selects(_ vm: VMFacts) -> Bool {
        appliesTo(host: vm.host)
            && (vms?.contains { $0.matches(name: vm.name, uuid: vm.uuid) } ?? true)
            && (tags.map { wanted in vm.tags.contains(where: wanted.contains) } ?? true)
            && !exclude.contains { $0.matches(name: vm.name, uuid: vm.uuid) }
    }

    /// Whether the policy covers any VM on this host, and so takes part in its host-wide limits.
    public func appliesTo(host: String) -> Bool {
        hosts?.contains { $0.matches(host) } ?? true
    }

    /// "VMs web-* or db1 tagged prod, on hosts hv-*, except *-scratch".
    public var description: String {
        var text = vms.map { "VMs " + Self.list($0.map(\.description)) } ?? "every VM"
        if let tags { text += " tagged " + Self.list(tags) }
        text += hosts.map { ", on hosts " + Self.list($0.map(\.pattern)) } ?? ", on every host"
        if !exclude.isEmpty { text += ", except " + Self.list(exclude.map(\.description)) }
        return text
    }

    private static func list(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " or " + items.last!
    }
}
