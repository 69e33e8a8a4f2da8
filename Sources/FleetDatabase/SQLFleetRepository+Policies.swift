import FleetAPI
import Foundation

/// Policies: versions of their text, their assignment, and the per-host bundle.
///
/// A version is made only when the text's SHA-256 changes. Deleting a policy removes it from
/// `policies` (and so from every bundle and list) but keeps its versions: a policy created
/// again under the same name continues their numbering, so an agent never sees one
/// (name, version) with two different texts.
extension SQLFleetRepository {
    func putPolicy(name: String, yaml: String, assignment: PolicyAssignment?, author: String, now: Date) async throws
        -> (document: PolicyDocument, created: Bool) {
        let sha256 = Secrets.sha256Hex(Data(yaml.utf8))
        // Two applies of one policy at once both make version N+1; the primary key lets one through.
        return try await explainingConflict("policy \(name) was changed meanwhile; apply it again") {
            try await database.transaction { tx in
                let policies = PolicyTable(tx: tx)
                guard let current = try await policies.current(name) else {
                    let last = try await tx.queryFirst("SELECT MAX(version) AS v FROM policy_versions WHERE name = ?", name)
                    let version = Int(try last?.optionalInt64("v") ?? 0) + 1
                    try await policies.insertVersion(name, version, yaml, sha256, author, now)
                    try await policies.insert(name, version: version, assignment ?? .everyHost, now)
                    return (try await policies.document(name, version: nil), true)
                }
                let created = current.sha256 != sha256
                if created {
                    try await policies.insertVersion(name, current.version + 1, yaml, sha256, author, now)
                    try await tx.execute("UPDATE policies SET version = ?, updated_at = ? WHERE name = ?",
                                         current.version + 1, now, name)
                }
                if let assignment, assignment != current.assignment {
                    try await policies.setAssignment(name, assignment, now)
                }
                return (try await policies.document(name, version: nil), created)
            }
        }
    }

    func setAssignment(policy name: String, _ assignment: PolicyAssignment, now: Date) async throws -> PolicyDocument {
        try await database.transaction { tx in
            let policies = PolicyTable(tx: tx)
            guard let current = try await policies.current(name) else { throw FleetError.notFound("no policy named \(name)") }
            if current.assignment != assignment { try await policies.setAssignment(name, assignment, now) }
            return try await policies.document(name, version: nil)
        }
    }

    /// Sorted by name; `hostCount` counts live (not revoked) hosts.
    func policies() async throws -> [PolicySummary] {
        try await database.transaction { tx in
            let hosts = try await tx.query("SELECT name, groups_json FROM hosts WHERE revoked_at IS NULL").map {
                (name: try $0.string("name"), groups: try $0.json("groups_json", as: [String].self))
            }
            return try await PolicyTable(tx: tx).all().map { policy in
                PolicySummary(
                    name: policy.name, version: policy.version, sha256: policy.sha256, assignment: policy.assignment,
                    updatedAt: policy.updatedAt,
                    hostCount: hosts.count { FleetRules.assigns(policy.assignment, hostName: $0.name, groups: $0.groups) })
            }
        }
    }

    func policy(name: String, version: Int?) async throws -> PolicyDocument {
        try await database.transaction { try await PolicyTable(tx: $0).document(name, version: version) }
    }

    /// Oldest first.
    func policyVersions(name: String) async throws -> [PolicyVersionInfo] {
        try await database.transaction { tx in
            guard try await PolicyTable(tx: tx).current(name) != nil else { throw FleetError.notFound("no policy named \(name)") }
            return try await tx.query(
                "SELECT version, sha256, created_at, author FROM policy_versions WHERE name = ? ORDER BY version", name
            ).map { row in
                PolicyVersionInfo(version: try row.int("version"), sha256: try row.string("sha256"),
                                  createdAt: try row.date("created_at"), author: try row.string("author"))
            }
        }
    }

    func deletePolicy(name: String, now: Date) async throws {
        let deleted = try await database.query("DELETE FROM policies WHERE name = ? RETURNING name", name)
        guard !deleted.isEmpty else { throw FleetError.notFound("no policy named \(name)") }
    }

    func policyBundle(hostID: String) async throws -> PolicyBundle {
        try await database.transaction { tx in
            guard let host = try await tx.queryFirst("SELECT name, groups_json FROM hosts WHERE id = ?", hostID) else {
                throw FleetError.notFound("no host with id \(hostID)")
            }
            let name = try host.string("name"), groups = try host.json("groups_json", as: [String].self)
            let entries = try await PolicyTable(tx: tx).all()
                .filter { FleetRules.assigns($0.assignment, hostName: name, groups: groups) }
                .map { PolicyBundle.Entry(name: $0.name, version: $0.version, yaml: $0.yaml, sha256: $0.sha256) }
            return PolicyBundle(etag: FleetRules.bundleEtag(entries), policies: entries)
        }
    }
}

/// The statements over `policies` and `policy_versions` that several methods share.
struct PolicyTable {
    struct Current {
        var name: String
        var version: Int
        var yaml: String
        var sha256: String
        var assignment: PolicyAssignment
        var updatedAt: Date
        var createdAt: Date
        var author: String
    }

    let tx: any SQLExecutor

    private static let select = """
        SELECT p.name, p.version, p.hosts_json, p.groups_json, p.updated_at, v.yaml, v.sha256, v.created_at, v.author
        FROM policies p JOIN policy_versions v ON v.name = p.name AND v.version = p.version
        """

    func current(_ name: String) async throws -> Current? {
        try await tx.queryFirst(Self.select + " WHERE p.name = ?", name).map(Self.current)
    }

    /// Every live policy at its current version, sorted by name (in Swift: the engines collate differently).
    func all() async throws -> [Current] {
        try await tx.query(Self.select).map(Self.current).sorted { $0.name < $1.name }
    }

    /// The current version, or the given one with the current assignment.
    func document(_ name: String, version: Int?) async throws -> PolicyDocument {
        guard let current = try await current(name) else { throw FleetError.notFound("no policy named \(name)") }
        guard let version, version != current.version else {
            return PolicyDocument(name: name, version: current.version, yaml: current.yaml, sha256: current.sha256,
                                  assignment: current.assignment, createdAt: current.createdAt, author: current.author)
        }
        guard let row = try await tx.queryFirst(
            "SELECT yaml, sha256, created_at, author FROM policy_versions WHERE name = ? AND version = ?", name, version)
        else { throw FleetError.notFound("policy \(name) has no version \(version)") }
        return PolicyDocument(name: name, version: version, yaml: try row.string("yaml"), sha256: try row.string("sha256"),
                              assignment: current.assignment, createdAt: try row.date("created_at"),
                              author: try row.string("author"))
    }

    func insertVersion(_ name: String, _ version: Int, _ yaml: String, _ sha256: String, _ author: String,
                       _ now: Date) async throws {
        try await tx.execute(
            "INSERT INTO policy_versions (name, version, yaml, sha256, created_at, author) VALUES (?, ?, ?, ?, ?, ?)",
            name, version, yaml, sha256, now, author)
    }

    func insert(_ name: String, version: Int, _ assignment: PolicyAssignment, _ now: Date) async throws {
        try await tx.execute(
            "INSERT INTO policies (name, version, hosts_json, groups_json, updated_at) VALUES (?, ?, ?, ?, ?)",
            name, version, try JSONColumn.encode(assignment.hosts), try JSONColumn.encode(assignment.groups), now)
    }

    func setAssignment(_ name: String, _ assignment: PolicyAssignment, _ now: Date) async throws {
        try await tx.execute(
            "UPDATE policies SET hosts_json = ?, groups_json = ?, updated_at = ? WHERE name = ?",
            try JSONColumn.encode(assignment.hosts), try JSONColumn.encode(assignment.groups), now, name)
    }

    private static func current(_ row: SQLRow) throws -> Current {
        Current(
            name: try row.string("name"), version: try row.int("version"), yaml: try row.string("yaml"),
            sha256: try row.string("sha256"),
            assignment: PolicyAssignment(hosts: try row.json("hosts_json", as: [String].self),
                                         groups: try row.json("groups_json", as: [String].self)),
            updatedAt: try row.date("updated_at"), createdAt: try row.date("created_at"), author: try row.string("author"))
    }
}
