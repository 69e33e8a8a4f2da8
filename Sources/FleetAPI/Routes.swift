/// The paths of the server's HTTP+JSON API, version 1. The OpenAPI document
/// (`Sources/VBackupServer/openapi.yaml`) describes each; a test keeps the two equal.
///
/// Every route but `health`, `openapi` and `enroll` needs `Authorization: Bearer TOKEN`:
/// an admin credential for the admin routes, a host credential for the `agent/` routes.
public enum APIPath {
    public static let prefix = "/api/v1"

    // Open.
    public static let health = "/api/v1/health"
    public static let openapi = "/api/v1/openapi.yaml"
    /// POST EnrollRequest → EnrollResponse: trades a one-time enrollment token for a host credential.
    public static let enroll = "/api/v1/enroll"

    // Agent (host credential).
    /// GET → PolicyBundle; honours `If-None-Match` (304 when the host's policies are unchanged).
    public static let agentPolicies = "/api/v1/agent/policies"
    /// POST ReportBatch → ReportReceipt. Reports carry their own ids; a repeat is acknowledged, not stored twice.
    public static let agentReports = "/api/v1/agent/reports"

    // Admin (admin credential).
    /// POST EnrollmentTokenRequest → EnrollmentTokenCreated.
    public static let enrollmentTokens = "/api/v1/enrollment-tokens"
    /// GET → [PolicySummary].
    public static let policies = "/api/v1/policies"
    /// GET → PolicyDocument; PUT PolicyApplyRequest → PolicyDocument (201 new version, 200 unchanged); DELETE → 204.
    public static func policy(_ name: String) -> String { "/api/v1/policies/\(name)" }
    /// GET → [PolicyVersionInfo].
    public static func policyVersions(_ name: String) -> String { "/api/v1/policies/\(name)/versions" }
    /// GET → PolicyDocument of that version.
    public static func policyVersion(_ name: String, _ version: Int) -> String { "/api/v1/policies/\(name)/versions/\(version)" }
    /// PUT PolicyAssignment → PolicyDocument.
    public static func policyAssignment(_ name: String) -> String { "/api/v1/policies/\(name)/assignment" }
    /// GET → [HostInfo].
    public static let hosts = "/api/v1/hosts"
    /// GET → HostDetail.
    public static func host(_ id: String) -> String { "/api/v1/hosts/\(id)" }
    /// POST → HostInfo: the host's credential stops working at once.
    public static func hostRevoke(_ id: String) -> String { "/api/v1/hosts/\(id)/revoke" }
    /// GET → [VMInfo]. Query: host.
    public static let vms = "/api/v1/vms"
    /// GET → [JobInfo]. Query: failed=true, state, host, vm, limit (default 100, at most 1000).
    public static let jobs = "/api/v1/jobs"
    /// GET → [PointInfo]. Query: host, vm, limit.
    public static let points = "/api/v1/points"
    /// GET → [DrillInfo], newest first. Query: host, vm, failed=true, limit.
    public static let drills = "/api/v1/drills"
    /// GET → [StoreUsageInfo]. Query: days (default 30).
    public static let storeUsage = "/api/v1/stores/usage"
}

/// Credentials are bearer tokens whose prefix says what they are, so a token pasted in the
/// wrong place is refused with a clear message and a leaked one is easy to recognise.
public enum TokenKind: String, Sendable, CaseIterable {
    case admin = "vba_"
    case host = "vbh_"
    case enrollment = "vbe_"
    case session = "vbs_"

    public static func of(_ token: String) -> TokenKind? {
        allCases.first { token.hasPrefix($0.rawValue) }
    }
}

/// The largest request body the server reads; anything longer is refused with 413.
public let maximumRequestBodyBytes = 4 * 1024 * 1024
/// The most reports one batch may carry.
public let maximumReportsPerBatch = 500
