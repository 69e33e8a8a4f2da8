import FleetAPI
import Foundation

/// The admin routes (admin credential): policies, enrollment tokens, hosts and what they report.
extension FleetClient {
    /// `GET /jobs`'s query: every field left nil (or false) does not filter.
    public struct JobFilter: Sendable, Equatable {
        public var failed: Bool
        public var state: String?
        public var host: String?
        public var vm: String?
        /// Server default 100, at most 1000.
        public var limit: Int?

        public init(failed: Bool = false, state: String? = nil, host: String? = nil, vm: String? = nil, limit: Int? = nil) {
            self.failed = failed
            self.state = state
            self.host = host
            self.vm = vm
            self.limit = limit
        }

        var query: [URLQueryItem] {
            var items: [URLQueryItem] = []
            if failed { items.append(URLQueryItem(name: "failed", value: "true")) }
            if let state { items.append(URLQueryItem(name: "state", value: state)) }
            if let host { items.append(URLQueryItem(name: "host", value: host)) }
            if let vm { items.append(URLQueryItem(name: "vm", value: vm)) }
            if let limit { items.append(URLQueryItem(name: "limit", value: String(limit))) }
            return items
        }
    }

    /// What `applyPolicy` did: a new version (201), or nothing because the text was the same (200).
    public struct Applied: Sendable, Equatable {
        public var document: PolicyDocument
        public var created: Bool
    }

    public func createEnrollmentToken(_ request: EnrollmentTokenRequest) async throws -> EnrollmentTokenCreated {
        try await call(.POST, APIPath.enrollmentTokens, body: request)
    }

    /// Creates or updates policy `name` (the YAML's `name:` must be the same).
    public func applyPolicy(name: String, _ request: PolicyApplyRequest) async throws -> Applied {
        let path = APIPath.policy(Self.segment(name))
        let answer = try await send(.PUT, path, body: try Self.encode(request))
        return Applied(document: try Self.decode(PolicyDocument.self, from: answer.body, route: "PUT \(path)"),
                       created: answer.status == 201)
    }

    public func policies() async throws -> [PolicySummary] {
        try await call(.GET, APIPath.policies)
    }

    public func policy(name: String) async throws -> PolicyDocument {
        try await call(.GET, APIPath.policy(Self.segment(name)))
    }

    public func policyVersions(name: String) async throws -> [PolicyVersionInfo] {
        try await call(.GET, APIPath.policyVersions(Self.segment(name)))
    }

    public func policy(name: String, version: Int) async throws -> PolicyDocument {
        try await call(.GET, APIPath.policyVersion(Self.segment(name), version))
    }

    public func setAssignment(name: String, _ assignment: PolicyAssignment) async throws -> PolicyDocument {
        try await call(.PUT, APIPath.policyAssignment(Self.segment(name)), body: assignment)
    }

    public func deletePolicy(name: String) async throws {
        _ = try await send(.DELETE, APIPath.policy(Self.segment(name)))
    }

    public func hosts() async throws -> [HostInfo] {
        try await call(.GET, APIPath.hosts)
    }

    public func host(id: String) async throws -> HostDetail {
        try await call(.GET, APIPath.host(Self.segment(id)))
    }

    /// The host's credential stops working at once.
    public func revokeHost(id: String) async throws -> HostInfo {
        try await call(.POST, APIPath.hostRevoke(Self.segment(id)))
    }

    public func vms(host: String? = nil) async throws -> [VMInfo] {
        try await call(.GET, APIPath.vms, query: host.map { [URLQueryItem(name: "host", value: $0)] } ?? [])
    }

    public func jobs(_ filter: JobFilter = JobFilter()) async throws -> [JobInfo] {
        try await call(.GET, APIPath.jobs, query: filter.query)
    }

    public func points(host: String? = nil, vm: String? = nil, limit: Int? = nil) async throws -> [PointInfo] {
        var query: [URLQueryItem] = []
        if let host { query.append(URLQueryItem(name: "host", value: host)) }
        if let vm { query.append(URLQueryItem(name: "vm", value: vm)) }
        if let limit { query.append(URLQueryItem(name: "limit", value: String(limit))) }
        return try await call(.GET, APIPath.points, query: query)
    }

    /// The drills the hosts reported, newest first; `failed` keeps the failed ones.
    public func drills(host: String? = nil, vm: String? = nil, failed: Bool = false, limit: Int? = nil) async throws -> [DrillInfo] {
        var query: [URLQueryItem] = []
        if let host { query.append(URLQueryItem(name: "host", value: host)) }
        if let vm { query.append(URLQueryItem(name: "vm", value: vm)) }
        if failed { query.append(URLQueryItem(name: "failed", value: "true")) }
        if let limit { query.append(URLQueryItem(name: "limit", value: String(limit))) }
        return try await call(.GET, APIPath.drills, query: query)
    }

    public func storeUsage(days: Int? = nil) async throws -> [StoreUsageInfo] {
        try await call(.GET, APIPath.storeUsage, query: days.map { [URLQueryItem(name: "days", value: String($0))] } ?? [])
    }
}
