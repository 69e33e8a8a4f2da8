import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import VBackupServer

/// The OpenAPI document served at `APIPath.openapi` is the API's contract for other clients;
/// these tests keep it true: the same routes as the router, and live answers that fit its schemas.
@Suite struct OpenAPIDocumentTests {
    static let document: JSONValue = {
        // A document that does not parse fails every test that reads it, with this message.
        (try? JSONValue.yaml(String(decoding: PackageResources.openapi_yaml, as: UTF8.self))) ?? .null
    }()

    static var operations: Set<String> {
        var found: Set<String> = []
        for (path, item) in document["paths"]?.object ?? [:] {
            for method in ["get", "put", "post", "delete", "patch", "head", "options"] where item[method] != nil {
                found.insert("\(method.uppercased()) \(path)")
            }
        }
        return found
    }

    @Test func documentParsesAsOpenAPI31WithABearerScheme() throws {
        #expect(Self.document["openapi"]?.string == "3.1.0")
        #expect(Self.document["components"]?["securitySchemes"]?["bearer"]?["scheme"]?.string == "bearer")
    }

    @Test func documentedOperationsAreExactlyTheRegisteredRoutes() {
        let registered = Set(RouteTable.routes.map { "\($0.method) \($0.path)" })
        #expect(registered.count == RouteTable.routes.count, "a route is registered twice")
        #expect(Self.operations.subtracting(registered).sorted() == [], "documented but not served")
        #expect(registered.subtracting(Self.operations).sorted() == [], "served but not documented")
    }

    @Test func documentedQueryParametersAreExactlyTheAcceptedOnes() throws {
        for route in RouteTable.routes {
            let operation = try #require(Self.document["paths"]?[route.path]?[route.method.rawValue.lowercased()])
            let documented = (operation["parameters"]?.array ?? []).compactMap { parameter -> String? in
                let resolved = parameter["$ref"]?.string.flatMap(SchemaValidator(document: Self.document).resolve) ?? parameter
                return resolved["in"]?.string == "query" ? resolved["name"]?.string : nil
            }
            #expect(Set(documented) == Set(route.query.map(\.rawValue)), "\(route.method) \(route.path)")
        }
    }

    /// Every wire type has a schema, and a value of it with every optional field set fits that
    /// schema exactly (no field missing from the document, none the type lacks).
    @Test func everyWireTypeFitsItsSchema() throws {
        let validator = SchemaValidator(document: Self.document)
        let schemas = Self.document["components"]?["schemas"]?.object ?? [:]
        for (name, data) in try WireSamples.all() {
            let schema = try #require(schemas[name], "no schema \(name)")
            let problems = validator.problems(try JSONValue.json(data), against: schema)
            #expect(problems == [], "\(name)")
        }
        #expect(Set(schemas.keys) == Set(try WireSamples.all().map(\.name)))
    }

    /// The validator is only worth its passes if it fails: each of these breaks one rule.
    @Test func validatorRefusesWhatTheSchemaForbids() throws {
        let validator = SchemaValidator(document: Self.document)
        let schema = JSONValue.object(["$ref": .string("#/components/schemas/PolicyVersionInfo")])
        let good = #"{"version": 1, "sha256": "ab", "createdAt": "2026-01-01T00:00:00.000Z", "author": "admin"}"#
        #expect(validator.problems(try JSONValue.json(Data(good.utf8)), against: schema) == [])
        let broken = [
            #"{"sha256": "ab", "createdAt": "2026-01-01T00:00:00.000Z", "author": "admin"}"#,  // version missing
            #"{"version": "1", "sha256": "ab", "createdAt": "2026-01-01T00:00:00.000Z", "author": "admin"}"#,  // string
            #"{"version": 1.5, "sha256": "ab", "createdAt": "2026-01-01T00:00:00.000Z", "author": "admin"}"#,  // not integer
            #"{"version": 1, "sha256": "ab", "createdAt": "yesterday", "author": "admin"}"#,  // date
            #"{"version": 1, "sha256": "ab", "createdAt": "2026-01-01T00:00:00.000Z", "author": "admin", "extra": 1}"#,
            #"[]"#,
        ]
        for text in broken {
            #expect(validator.problems(try JSONValue.json(Data(text.utf8)), against: schema) != [], "\(text)")
        }
        let host = JSONValue.object(["$ref": .string("#/components/schemas/HealthStatus")])
        #expect(validator.problems(try JSONValue.json(Data(#"{"status":"ok","version":"1","database":"oracle"}"#.utf8)),
                                   against: host) != [], "enum")
    }

    /// Calls every route once with what it accepts and checks each answer against the
    /// document: the status is one it lists for the operation, and the body fits the schema of
    /// that status and content type.
    @Test(arguments: TestDatabase.allCases)
    func liveResponsesMatchTheDocument(_ kind: TestDatabase) async throws {
        let exchanges = try await TestServer.run(kind) { server in try await LiveTour.run(server) }
        let validator = SchemaValidator(document: Self.document)
        for exchange in exchanges {
            let operation = try #require(Self.document["paths"]?[exchange.template]?[exchange.method.rawValue.lowercased()],
                                         "\(exchange)")
            let response = try #require(operation["responses"]?[String(exchange.status)], "\(exchange): status not documented")
            let content = response["content"]?.object ?? [:]
            if content.isEmpty {
                #expect(exchange.body.isEmpty, "\(exchange): documented without a body")
                continue
            }
            let mediaType = try #require(exchange.contentType?.split(separator: ";").first.map(String.init), "\(exchange)")
            let schema = try #require(content[mediaType]?["schema"], "\(exchange): \(mediaType) not documented")
            if mediaType == "application/json" {
                #expect(validator.problems(try JSONValue.json(exchange.body), against: schema) == [], "\(exchange)")
            }
        }
        let covered = Set(exchanges.map { "\($0.method) \($0.template)" })
        #expect(covered == Set(RouteTable.routes.map { "\($0.method) \($0.path)" }), "the tour missed a route")
        #expect(Set(exchanges.map(\.status)).isSuperset(of: [200, 201, 204, 303, 304]))
    }

    @Test(arguments: TestDatabase.allCases)
    func theServedDocumentIsTheEmbeddedOne(_ kind: TestDatabase) async throws {
        try await TestServer.run(kind) { server in
            let response = try await server.send(.get, APIPath.openapi)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/yaml")
            #expect(Array(response.body.readableBytesView) == PackageResources.openapi_yaml)
        }
    }
}

/// One request of the tour and its answer.
struct Exchange: Sendable, CustomStringConvertible {
    var method: HTTPRequest.Method
    var template: String
    var status: Int
    var contentType: String?
    var body: Data

    var description: String { "\(method) \(template) → \(status)" }
}
