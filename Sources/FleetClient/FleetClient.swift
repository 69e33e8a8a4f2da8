import AsyncHTTPClient
import FleetAPI
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The policy server's HTTP+JSON API (`APIPath`), one typed async method per route: what the
/// agent (enroll, poll policies, send reports) and the admin commands speak to the server with.
///
/// Requests go through one process-wide `HTTPClient` (`transport`), so a `FleetClient` holds no
/// connections of its own and needs no shutdown; a pinned certificate travels with each request
/// as its TLS configuration (the pool keeps such connections apart). Bodies are JSON in
/// `APIJSON`'s form. The credential is sent as `Authorization: Bearer …` and appears in no
/// description, error or log.
public final class FleetClient: Sendable {
    /// Which certificates the client accepts from an `https` server.
    public enum Trust: Sendable, Equatable {
        /// The system's root certificates, with hostname verification.
        case system
        /// Only chains that end at the certificate(s) in this PEM file: the server's own
        /// self-signed certificate or the private CA that issued it. The system roots are not
        /// consulted, so a certificate from any other CA is refused. When the server URL names
        /// an IP address the hostname check is skipped (self-signed certificates for an address
        /// often lack the IP SAN), so the pin alone authenticates the server.
        case pinned(certificatePEMPath: String)
    }

    public let server: URL
    private let credential: String?
    private let tls: TLSConfiguration?
    private let timeout: TimeAmount

    /// - Parameters:
    ///   - server: `https://host:port` (or `http://` for a test server on loopback).
    ///   - credential: an admin (`vba_`) or host (`vbh_`) token; nil for the open routes.
    ///   - timeout: for each whole request, connection included.
    /// - Throws: `FleetClientError.unreachable` when the pinned certificate cannot be read (the
    ///   server cannot be trusted without it); nothing else, as nothing is sent yet.
    public init(server: URL, credential: String?, trust: Trust = .system, timeout: Duration = .seconds(30)) throws {
        self.server = server
        self.credential = credential
        let (seconds, attoseconds) = timeout.components
        self.timeout = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        switch trust {
        case .system:
            tls = nil
        case .pinned(let path):
            tls = try Self.pinnedConfiguration(path: path, host: server.host ?? "")
        }
    }

    private static func pinnedConfiguration(path: String, host: String) throws -> TLSConfiguration {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw FleetClientError.unreachable(server: host, reason: "cannot read the pinned certificate \(path): \(error)")
        }
        guard !certificates.isEmpty else {
            throw FleetClientError.unreachable(server: host, reason: "\(path) holds no PEM certificate")
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates(certificates)
        configuration.certificateVerification = Self.isIPAddress(host) ? .noHostnameVerification : .fullVerification
        return configuration
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return inet_pton(AF_INET, bare, &v4) == 1 || inet_pton(AF_INET6, bare, &v6) == 1
    }

    // MARK: - Transport

    /// A decoded answer and the bits of the HTTP exchange some routes need.
    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    /// Sends one request and returns a 2xx or 304 answer; any other status becomes `.http`
    /// with the server's `APIError` message, any transport failure `.unreachable`.
    func send(_ method: HTTPMethod, _ path: String, query: [URLQueryItem] = [], body: Data? = nil,
              headers extra: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: url(path, query: query))
        request.method = method
        request.tlsConfiguration = tls
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "vbackup-fleet-client")
        if let credential { request.headers.add(name: "Authorization", value: "Bearer \(credential)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await Self.transport.execute(request, timeout: timeout)
            bytes = try await response.body.collect(upTo: Self.maximumResponseBytes)
        } catch let error as NIOTooManyBytesError {
            throw FleetClientError.badResponse("the answer is larger than \(Self.maximumResponseBytes) bytes (\(error))")
        } catch {
            throw FleetClientError.unreachable(server: server.absoluteString, reason: TransportFailure.describe(error, timeout: timeout))
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) || status == 304 else {
            throw FleetClientError.http(status: status, message: Self.errorMessage(bytes, status: response.status))
        }
        return Answer(status: status, headers: response.headers, body: bytes)
    }

    /// Sends the request and decodes the answer as `Result`.
    func call<Result: Decodable>(_ method: HTTPMethod, _ path: String, query: [URLQueryItem] = []) async throws -> Result {
        let answer = try await send(method, path, query: query)
        return try Self.decode(Result.self, from: answer.body, route: "\(method) \(path)")
    }

    /// Sends `body` as JSON and decodes the answer as `Result`.
    func call<Result: Decodable, Body: Encodable & Sendable>(_ method: HTTPMethod, _ path: String, body: Body) async throws -> Result {
        let answer = try await send(method, path, body: try Self.encode(body))
        return try Self.decode(Result.self, from: answer.body, route: "\(method) \(path)")
    }

    static let maximumResponseBytes = 64 * 1024 * 1024

    /// Like `HTTPClient.shared` (created once, never shut down, so nothing has to remember to),
    /// but configured for an API client: a failed connection fails the request at once instead
    /// of being retried until the deadline (the agent retries with its own back-off, and a person
    /// at the CLI wants the TLS or "refused" error now, not 30 s later), and redirects are not
    /// followed (the bearer token must not travel to another address).
    static let transport: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(60))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    private func url(_ path: String, query: [URLQueryItem]) -> String {
        var base = server.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        var components = URLComponents()
        components.queryItems = query.isEmpty ? nil : query
        return base + path + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
    }

    static func encode(_ value: some Encodable) throws -> Data {
        do { return try APIJSON.encoder().encode(value) } catch {
            throw FleetClientError.badResponse("cannot encode the request: \(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer, route: String) throws -> T {
        do {
            return try APIJSON.decoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw FleetClientError.badResponse("\(route): not a \(T.self): \(error)")
        }
    }

    /// The server's `{"error": …}` text; else the start of whatever it sent; else the reason phrase.
    private static func errorMessage(_ buffer: ByteBuffer, status: HTTPResponseStatus) -> String {
        let data = Data(buffer.readableBytesView)
        if let error = try? APIJSON.decoder().decode(APIError.self, from: data) { return error.error }
        let text = String(decoding: data.prefix(200), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? status.reasonPhrase : text
    }

    /// A path segment (a policy name, a host id) escaped for the URL.
    static func segment(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
