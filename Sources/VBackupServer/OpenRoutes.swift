import FleetAPI
import Hummingbird

/// The routes anyone may call: a load balancer's health check and the API's description.
enum OpenRoutes {
    /// Asks the database a trivial question, so "ok" means the server can serve (503 otherwise).
    @Sendable static func health(_ call: Call) async throws -> Response {
        _ = try await call.repository.adminCredentialCount()
        return try Reply.json(HealthStatus(status: "ok", version: PolicyServer.version, database: call.repository.kind))
    }

    @Sendable static func openapi(_ call: Call) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_yaml)))
    }
}
