import FleetAPI
import Foundation

/// Who made a request, once its bearer token (or dashboard session) is checked.
public enum Principal: Sendable, Equatable {
    case admin(id: String, name: String)
    case host(id: String, name: String)

    /// The name written as a policy version's author and in logs.
    public var name: String {
        switch self {
        case .admin(_, let name), .host(_, let name): name
        }
    }
}

/// Why a repository call was refused; the server maps each to an HTTP status.
public enum FleetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 400: the input is well formed JSON but not acceptable.
    case invalid(String)
    /// 401: unknown, used, expired or revoked token.
    case unauthenticated(String)
    /// 404.
    case notFound(String)
    /// 409.
    case conflict(String)
    /// 500/503: the database failed.
    case database(String)

    public var description: String {
        switch self {
        case .invalid(let s), .unauthenticated(let s), .notFound(let s), .conflict(let s), .database(let s): s
        }
    }
}

public struct JobFilter: Sendable, Equatable {
    /// failed only (state failed, missed or interrupted).
    public var failedOnly = false
    public var state: String?
    public var hostID: String?
    /// A VM name or UUID.
    public var vm: String?
    public var limit = 100

    public init(failedOnly: Bool = false, state: String? = nil, hostID: String? = nil, vm: String? = nil, limit: Int = 100) {
        self.failedOnly = failedOnly
        self.state = state
        self.hostID = hostID
        self.vm = vm
        self.limit = limit
    }
}

public struct DrillFilter: Sendable, Equatable {
    /// Failed drills only.
    public var failedOnly = false
    public var hostID: String?
    /// A VM name or UUID.
    public var vm: String?
    public var limit = 100

    public init(failedOnly: Bool = false, hostID: String? = nil, vm: String? = nil, limit: Int = 100) {
        self.failedOnly = failedOnly
        self.hostID = hostID
        self.vm = vm
        self.limit = limit
    }
}

/// The server's state, behind one interface with two implementations of the same SQL:
/// SQLite (a file; the default) and PostgreSQL (replicated, several server instances).
/// Every method is one transaction. Secrets (admin, host, enrollment and session tokens)
/// are generated here and stored only as their SHA-256; the plain token is returned once.
public protocol FleetRepository: Sendable {
    /// "sqlite" or "postgresql".
    var kind: String { get }

    // MARK: Credentials

    /// A new admin credential (`vba_…`).
    func createAdminCredential(name: String, now: Date) async throws -> String
    func adminCredentialCount() async throws -> Int
    /// The principal of a bearer token (admin or host, not revoked), or nil. Updates the
    /// host's last contact when it is a host.
    func authenticate(token: String, now: Date) async throws -> Principal?

    // MARK: Enrollment

    func createEnrollmentToken(_ request: EnrollmentTokenRequest, now: Date) async throws -> EnrollmentTokenCreated
    /// Uses the token once (a second use is `.unauthenticated`), creates the host (or, for a
    /// host name that was revoked, a new host record) and its credential.
    func enroll(_ request: EnrollRequest, now: Date) async throws -> EnrollResponse
    /// The host's credential stops working; its records stay.
    func revokeHost(id: String, now: Date) async throws -> HostInfo

    // MARK: Dashboard sessions

    /// A session (`vbs_…`) for an admin, valid until `expiresAt`.
    func createSession(adminID: String, expiresAt: Date, now: Date) async throws -> String
    func session(token: String, now: Date) async throws -> Principal?
    func deleteSession(token: String) async throws

    // MARK: Policies

    /// Stores a new version when the text differs from the current one (returns `created: true`),
    /// or only updates the assignment when given. The caller has validated the YAML.
    func putPolicy(name: String, yaml: String, assignment: PolicyAssignment?, author: String, now: Date) async throws
        -> (document: PolicyDocument, created: Bool)
    func setAssignment(policy name: String, _ assignment: PolicyAssignment, now: Date) async throws -> PolicyDocument
    func policies() async throws -> [PolicySummary]
    /// The current version, or the given one.
    func policy(name: String, version: Int?) async throws -> PolicyDocument
    func policyVersions(name: String) async throws -> [PolicyVersionInfo]
    func deletePolicy(name: String, now: Date) async throws
    /// The host's bundle; its etag is a digest of (name, version, sha256) of each entry, sorted.
    func policyBundle(hostID: String) async throws -> PolicyBundle

    // MARK: Reports

    /// Stores each report once (by id, per host) and applies it: a job report upserts the job
    /// (and its point), an inventory replaces the host's VMs and updates its versions and
    /// policy errors, a store usage report adds a sample, a drill report upserts the VM's
    /// verdict by (drill id, VM). All or nothing.
    func record(_ batch: ReportBatch, hostID: String, now: Date) async throws -> ReportReceipt

    // MARK: Reads

    func hosts(now: Date) async throws -> [HostInfo]
    func host(id: String, now: Date) async throws -> HostDetail
    func vms(hostID: String?, now: Date) async throws -> [VMInfo]
    func jobs(_ filter: JobFilter) async throws -> [JobInfo]
    func points(hostID: String?, vm: String?, limit: Int) async throws -> [PointInfo]
    /// Newest first by finish time.
    func drills(_ filter: DrillFilter) async throws -> [DrillInfo]
    func storeUsage(since: Date) async throws -> [StoreUsageInfo]
    func throughputPerNight(since: Date) async throws -> [NightlyThroughput]

    /// Closes connections (PostgreSQL's pool); the repository is unusable afterwards.
    func shutdown() async
}
