import FleetAPI
import FleetDatabase
import Hummingbird
import VBackupPolicy

/// The admin's policy routes. A policy is stored only after it parses exactly as an agent
/// will parse it, so a policy the server accepts is never refused by the fleet for its syntax.
enum PolicyRoutes {
    @Sendable static func list(_ call: Call) async throws -> Response {
        try Reply.json(try await call.repository.policies())
    }

    @Sendable static func current(_ call: Call) async throws -> Response {
        try Reply.json(try await call.repository.policy(name: try call.path.name(), version: nil))
    }

    @Sendable static func version(_ call: Call) async throws -> Response {
        try Reply.json(try await call.repository.policy(name: try call.path.name(), version: try call.path.version()))
    }

    @Sendable static func versions(_ call: Call) async throws -> Response {
        try Reply.json(try await call.repository.policyVersions(name: try call.path.name()))
    }

    /// 201 when the text made a new version, 200 when it was the current text already.
    @Sendable static func apply(_ call: Call) async throws -> Response {
        let name = try call.path.name()
        let request = try await call.body(PolicyApplyRequest.self)
        try PolicyText.check(request.yaml, name: name)
        if let assignment = request.assignment { try Validation.assignment(assignment) }
        let (document, created) = try await call.repository.putPolicy(
            name: name, yaml: request.yaml, assignment: request.assignment, author: try call.authenticated().name, now: call.now)
        return try Reply.json(document, status: created ? .created : .ok)
    }

    @Sendable static func assign(_ call: Call) async throws -> Response {
        let name = try call.path.name()
        let assignment = try await call.body(PolicyAssignment.self)
        try Validation.assignment(assignment)
        return try Reply.json(try await call.repository.setAssignment(policy: name, assignment, now: call.now))
    }

    @Sendable static func delete(_ call: Call) async throws -> Response {
        try await call.repository.deletePolicy(name: try call.path.name(), now: call.now)
        return Response(status: .noContent)
    }
}

/// The YAML check of `PUT policies/{name}`: the agent's own parser, every error in one line.
enum PolicyText {
    /// Policy files are a few kilobytes; this keeps a hostile one from costing the parser much.
    static let maximumBytes = 256 * 1024

    static func check(_ yaml: String, name: String) throws {
        guard yaml.utf8.count <= maximumBytes else {
            throw APIFailure.badRequest("policy file \(name): longer than \(maximumBytes) bytes")
        }
        let (policy, errors) = Policy.read(yaml, file: name)
        guard errors.isEmpty, let policy else {
            let lines = errors.isEmpty ? ["policy file \(name): not a policy"] : errors.map(\.description)
            throw APIFailure.badRequest(OneLine.text(lines.joined(separator: "; ")))
        }
        guard policy.name == name else {
            let place = policy.nameLine.map { "\(name):\($0)" } ?? name
            throw APIFailure.badRequest("policy file \(place): name '\(policy.name)' differs from '\(name)' in the path")
        }
    }
}
