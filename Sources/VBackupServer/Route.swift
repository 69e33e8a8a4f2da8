import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird

/// One entry of the route table: what the router registers, what the OpenAPI test compares
/// with the document, and what the security tests loop over.
struct Route: Sendable {
    var method: HTTPRequest.Method
    /// The template as the OpenAPI document writes it (`/api/v1/policies/{name}`), which is also
    /// Hummingbird's syntax.
    var path: String
    var access: Access
    var query: [QueryParameter] = []
    var handle: @Sendable (Call) async throws -> Response

    init(_ method: HTTPRequest.Method, _ path: String, _ access: Access, query: [QueryParameter] = [],
         _ handle: @escaping @Sendable (Call) async throws -> Response) {
        self.method = method
        self.path = path
        self.access = access
        self.query = query
        self.handle = handle
    }

    /// The route's checks, in the order that leaks least: size (cheap, before reading), then
    /// who is asking, and only then the parameters and the body.
    func responder(_ server: ServerState) -> @Sendable (Request, BasicRequestContext) async throws -> Response {
        { request, context in
            let now = server.clock()
            try JSONBody.checkDeclaredLength(request, limit: maximumRequestBodyBytes)
            var principal: Principal?
            switch access {
            case .open, .enrollment:
                break
            case .admin, .host:
                principal = try await Authentication.principal(access, request: request, repository: server.repository, now: now)
            case .session:
                guard let admin = try await Session.principal(request, repository: server.repository, now: now) else {
                    return Reply.redirect(to: DashboardRoutes.loginPath)
                }
                principal = admin
            }
            let call = Call(request: request, principal: principal, path: try PathParameters(context.parameters),
                            query: try Query(request, accepted: query), server: server, now: now)
            return try await handle(call)
        }
    }
}

/// Every route the server answers, API and dashboard. `PolicyServer` registers exactly these.
enum RouteTable {
    static let routes: [Route] = [
        Route(.get, APIPath.health, .open, OpenRoutes.health),
        Route(.get, APIPath.openapi, .open, OpenRoutes.openapi),
        Route(.post, APIPath.enroll, .enrollment, AgentRoutes.enroll),

        Route(.get, APIPath.agentPolicies, .host, AgentRoutes.policies),
        Route(.post, APIPath.agentReports, .host, AgentRoutes.reports),

        Route(.post, APIPath.enrollmentTokens, .admin, FleetRoutes.createEnrollmentToken),
        Route(.get, APIPath.policies, .admin, PolicyRoutes.list),
        Route(.get, APIPath.policy("{name}"), .admin, PolicyRoutes.current),
        Route(.put, APIPath.policy("{name}"), .admin, PolicyRoutes.apply),
        Route(.delete, APIPath.policy("{name}"), .admin, PolicyRoutes.delete),
        Route(.get, APIPath.policyVersions("{name}"), .admin, PolicyRoutes.versions),
        Route(.get, APIPath.policyVersions("{name}") + "/{version}", .admin, PolicyRoutes.version),
        Route(.put, APIPath.policyAssignment("{name}"), .admin, PolicyRoutes.assign),
        Route(.get, APIPath.hosts, .admin, FleetRoutes.hosts),
        Route(.get, APIPath.host("{id}"), .admin, FleetRoutes.host),
        Route(.post, APIPath.hostRevoke("{id}"), .admin, FleetRoutes.revoke),
        Route(.get, APIPath.vms, .admin, query: [.host], FleetRoutes.vms),
        Route(.get, APIPath.jobs, .admin, query: [.failed, .state, .host, .vm, .limit], FleetRoutes.jobs),
        Route(.get, APIPath.points, .admin, query: [.host, .vm, .limit], FleetRoutes.points),
        Route(.get, APIPath.drills, .admin, query: [.host, .vm, .failed, .limit], FleetRoutes.drills),
        Route(.get, APIPath.storeUsage, .admin, query: [.days], FleetRoutes.storeUsage),

        Route(.get, DashboardRoutes.overviewPath, .session, DashboardRoutes.overview),
        Route(.get, DashboardRoutes.loginPath, .open, DashboardRoutes.loginForm),
        Route(.post, DashboardRoutes.loginPath, .open, DashboardRoutes.login),
        Route(.post, DashboardRoutes.logoutPath, .open, DashboardRoutes.logout),
    ]
}
