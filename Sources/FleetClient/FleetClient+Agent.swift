import FleetAPI
import Foundation

/// The open routes and the agent's (host credential).
extension FleetClient {
    /// What a conditional poll of the host's policies found.
    public enum BundleAnswer: Sendable, Equatable {
        /// 304: the bundle whose etag was sent is still current.
        case unchanged
        case changed(PolicyBundle)
    }

    public func health() async throws -> HealthStatus {
        try await call(.GET, APIPath.health)
    }

    /// Trades a one-time enrollment token (`vbe_…`) for this host's credential.
    public func enroll(_ request: EnrollRequest) async throws -> EnrollResponse {
        try await call(.POST, APIPath.enroll, body: request)
    }

    /// The policies assigned to this host; with `ifNoneMatch` (the etag of the bundle in hand)
    /// the server answers `.unchanged` without sending them again.
    public func policyBundle(ifNoneMatch etag: String?) async throws -> BundleAnswer {
        let answer = try await send(.GET, APIPath.agentPolicies, headers: etag.map { [("If-None-Match", Self.quoted($0))] } ?? [])
        if answer.status == 304 { return .unchanged }
        return .changed(try Self.decode(PolicyBundle.self, from: answer.body, route: "GET \(APIPath.agentPolicies)"))
    }

    /// Delivers reports; the receipt names every id (accepted or already known), and the
    /// agent drops exactly those from its queue.
    public func sendReports(_ batch: ReportBatch) async throws -> ReportReceipt {
        try await call(.POST, APIPath.agentReports, body: batch)
    }

    /// HTTP wants entity tags quoted; a tag that already is stays as it is.
    static func quoted(_ etag: String) -> String {
        etag.hasPrefix("\"") || etag.hasPrefix("W/") ? etag : "\"\(etag)\""
    }
}
