import FleetAPI
import FleetDatabase
import Hummingbird

/// What agents call: enrollment (with a one-time token) and, with their host credential, the
/// policy poll and report delivery. The host is always the credential's, never the body's, so
/// one host cannot read another's policies or report in its name.
enum AgentRoutes {
    @Sendable static func enroll(_ call: Call) async throws -> Response {
        let request = try await call.body(EnrollRequest.self)
        try Authentication.checkEnrollmentToken(request.token)
        try Validation.enrollRequest(request)
        return try Reply.json(try await call.repository.enroll(request, now: call.now))
    }

    /// An agent polls every minute or so; when nothing changed it sends the ETag it has and
    /// gets an empty 304, so an idle fleet costs one digest per poll and no YAML.
    @Sendable static func policies(_ call: Call) async throws -> Response {
        let bundle = try await call.repository.policyBundle(hostID: try call.hostID())
        let etag = "\"\(bundle.etag)\""
        if EntityTag.matches(call.request.headers[.ifNoneMatch], etag) {
            return Response(status: .notModified, headers: [.eTag: etag])
        }
        return try Reply.json(bundle, headers: [.eTag: etag])
    }

    @Sendable static func reports(_ call: Call) async throws -> Response {
        let hostID = try call.hostID()
        let batch = try await call.body(ReportBatch.self)
        try Validation.reportBatch(batch)
        return try Reply.json(try await call.repository.record(batch, hostID: hostID, now: call.now))
    }
}

/// `If-None-Match` against a strong ETag: a list of tags, weak ones compared by their value
/// (RFC 9110 §13.1.2), or `*`.
enum EntityTag {
    static func matches(_ ifNoneMatch: String?, _ etag: String) -> Bool {
        guard let ifNoneMatch else { return false }
        return ifNoneMatch.split(separator: ",").contains { candidate in
            var tag = candidate.trimmingCharacters(in: .whitespaces)
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == "*" || tag == etag
        }
    }
}
