import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird

/// The admin's view of the fleet, and the two things an admin does to hosts: let one in
/// (an enrollment token) and shut one out (revoke).
enum FleetRoutes {
    static let defaultLimit = 100
    static let defaultDays = 30

    @Sendable static func createEnrollmentToken(_ call: Call) async throws -> Response {
        let request = try await call.body(EnrollmentTokenRequest.self)
        try Validation.enrollmentTokenRequest(request)
        return try Reply.json(try await call.repository.createEnrollmentToken(request, now: call.now))
    }

    @Sendable static func hosts(_ call: Call) async throws -> Response {
        try Reply.json(try await call.repository.hosts(now: call.now))
    }

    @Sendable static func host(_ call: Call) async throws -> Response {
        try Reply.json(try await call.repository.host(id: try call.path.id(), now: call.now))
    }

    @Sendable static func revoke(_ call: Call) async throws -> Response {
        try Reply.json(try await call.repository.revokeHost(id: try call.path.id(), now: call.now))
    }

    @Sendable static func vms(_ call: Call) async throws -> Response {
        try Reply.json(try await call.repository.vms(hostID: call.query.hostID, now: call.now))
    }

    @Sendable static func jobs(_ call: Call) async throws -> Response {
        let query = call.query
        let filter = JobFilter(failedOnly: query.failedOnly, state: query.state, hostID: query.hostID, vm: query.vm,
                               limit: query.limit ?? defaultLimit)
        return try Reply.json(try await call.repository.jobs(filter))
    }

    @Sendable static func points(_ call: Call) async throws -> Response {
        let query = call.query
        return try Reply.json(try await call.repository.points(hostID: query.hostID, vm: query.vm, limit: query.limit ?? defaultLimit))
    }

    @Sendable static func drills(_ call: Call) async throws -> Response {
        let query = call.query
        let filter = DrillFilter(failedOnly: query.failedOnly, hostID: query.hostID, vm: query.vm, limit: query.limit ?? defaultLimit)
        return try Reply.json(try await call.repository.drills(filter))
    }

    @Sendable static func storeUsage(_ call: Call) async throws -> Response {
        let days = call.query.days ?? defaultDays
        return try Reply.json(try await call.repository.storeUsage(since: call.now.addingTimeInterval(-Double(days) * 86_400)))
    }
}
