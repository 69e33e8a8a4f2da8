import Foundation

/// Which hosts receive a policy. A host receives it when its name matches one of `hosts`
/// (shell globs) or it belongs to one of `groups`. Which VMs on those hosts the policy backs
/// up is the policy's own `select` block (names, tags — the VM groups — and exclusions).
public struct PolicyAssignment: Codable, Sendable, Equatable {
    public var hosts: [String]
    public var groups: [String]

    public init(hosts: [String] = [], groups: [String] = []) {
        self.hosts = hosts
        self.groups = groups
    }

    /// What a policy applied without an assignment gets: every host.
    public static let everyHost = PolicyAssignment(hosts: ["*"])
}

/// Admin: create or update a policy. `yaml` is a policy file (format 1, `policies/README.md`);
/// the server validates it and refuses it with every error (`policy file NAME:LINE: …`).
/// Its `name:` must equal the name in the path.
public struct PolicyApplyRequest: Codable, Sendable, Equatable {
    public var yaml: String
    /// nil keeps the current assignment (a new policy: every host).
    public var assignment: PolicyAssignment?

    public init(yaml: String, assignment: PolicyAssignment? = nil) {
        self.yaml = yaml
        self.assignment = assignment
    }
}

public struct PolicyDocument: Codable, Sendable, Equatable {
    public var name: String
    /// 1 for the first version; +1 each time the text changes. Applying the same text again is not a new version.
    public var version: Int
    public var yaml: String
    /// Hex SHA-256 of `yaml`.
    public var sha256: String
    public var assignment: PolicyAssignment
    public var createdAt: Date
    /// The credential name that applied this version.
    public var author: String

    public init(name: String, version: Int, yaml: String, sha256: String, assignment: PolicyAssignment,
                createdAt: Date, author: String) {
        self.name = name
        self.version = version
        self.yaml = yaml
        self.sha256 = sha256
        self.assignment = assignment
        self.createdAt = createdAt
        self.author = author
    }
}

public struct PolicySummary: Codable, Sendable, Equatable {
    public var name: String
    public var version: Int
    public var sha256: String
    public var assignment: PolicyAssignment
    public var updatedAt: Date
    /// Hosts that currently receive it.
    public var hostCount: Int

    public init(name: String, version: Int, sha256: String, assignment: PolicyAssignment, updatedAt: Date, hostCount: Int) {
        self.name = name
        self.version = version
        self.sha256 = sha256
        self.assignment = assignment
        self.updatedAt = updatedAt
        self.hostCount = hostCount
    }
}

public struct PolicyVersionInfo: Codable, Sendable, Equatable {
    public var version: Int
    public var sha256: String
    public var createdAt: Date
    public var author: String

    public init(version: Int, sha256: String, createdAt: Date, author: String) {
        self.version = version
        self.sha256 = sha256
        self.createdAt = createdAt
        self.author = author
    }
}

/// Agent: the policies assigned to this host, current versions. `etag` is also the HTTP
/// `ETag`; it changes exactly when a policy is added, removed, updated or (un)assigned.
public struct PolicyBundle: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var version: Int
        public var yaml: String
        public var sha256: String

        public init(name: String, version: Int, yaml: String, sha256: String) {
            self.name = name
            self.version = version
            self.yaml = yaml
            self.sha256 = sha256
        }
    }

    public var etag: String
    public var policies: [Entry]

    public init(etag: String, policies: [Entry]) {
        self.etag = etag
        self.policies = policies
    }
}
