import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import StorageAdapter

/// How hard the client tries before it gives up on a transient failure.
struct S3RetryPolicy: Sendable {
    /// Sends of one request in all (the first one included).
    var attempts = 6
    /// The first back-off; each later one doubles, up to `maximumDelay`, with jitter.
    var baseDelay = 0.2
    var maximumDelay = 8.0

    /// Half the doubled delay fixed, half random ("equal jitter"), so that many clients
    /// throttled at once do not come back at once.
    func delay(beforeAttempt attempt: Int) -> Double {
        let ceiling = min(maximumDelay, baseDelay * pow(2, Double(attempt - 2)))
        return ceiling / 2 + Double.random(in: 0...(ceiling / 2))
    }
}

/// No answer came: the connection failed, was reset, or timed out (after the retries).
struct S3TransportError: Error, Sendable {
    var reason: String
    var attempts: Int
}

/// Sends signed S3 requests: addressing, SigV4, retries with back-off, the parallel limit and
/// the request tally. It knows S3's wire form, nothing of what the objects mean.
final class S3Client: Sendable {
    let location: S3Location
    let credentials: S3Credentials
    let retry: S3RetryPolicy
    let slots: RequestSlots
    private let tallyBox = Locked(RequestTally())
    private let http: HTTPClient

    init(location: S3Location, credentials: S3Credentials, retry: S3RetryPolicy, trust: S3Trust? = nil) {
        self.location = location
        self.credentials = credentials
        self.retry = retry
        slots = RequestSlots(limit: location.parallelRequests)
        http = S3HTTP.client(connections: location.parallelRequests, trust: trust)
    }

    var tally: RequestTally { tallyBox.value }

    /// Sends `request` until it gets a final answer: any status that is not transient (the
    /// caller decides what 404 or 412 means), or a transient one after the last attempt.
    /// Throws `S3TransportError` when no answer came at all. Blocks the calling thread.
    ///
    /// The wait is on NIO's future, not on a Swift task: a task would need a thread of the
    /// global executor, which on Linux is GCD's pool, and callers blocking GCD threads (the
    /// store's `concurrentPerform`) starved it here for seconds at a time.
    func send(_ request: S3Request) throws -> S3Response {
        let attempts = min(retry.attempts, request.attemptLimit ?? retry.attempts)
        let payloadHash = payloadHash(of: request)  // once, not per attempt
        var attempt = 1
        while true {
            do {
                let response = try sendOnce(request, payloadHash: payloadHash, attempt: attempt)
                guard attempt < attempts, S3Transient.isTransient(response) else { return response }
            } catch let failure as S3TransportFailure {
                guard failure.transient, attempt < attempts else {
                    throw S3TransportError(reason: failure.reason, attempts: attempt)
                }
            }
            attempt += 1
            tallyBox.update { $0.retries += 1 }
            Thread.sleep(forTimeInterval: retry.delay(beforeAttempt: attempt))
        }
    }

    /// The body's SHA-256 for `x-amz-content-sha256`, so that S3 checks the body arrived
    /// intact; over HTTPS, `UNSIGNED-PAYLOAD` for a body of any size, since TLS already
    /// guarantees that, and hashing every pack twice more (here and in the gateway) cost about
    /// a tenth of a backup's CPU on each side.
    func payloadHash(of request: S3Request) -> String {
        let overTLS = location.endpoint.scheme?.lowercased() == "https"
        return overTLS && !request.body.isEmpty ? SigV4.unsignedPayload : SigV4.sha256Hex(request.body)
    }

    /// One send, holding one of the parallel slots; counted in the tally whatever happens.
    private func sendOnce(_ request: S3Request, payloadHash: String, attempt: Int) throws -> S3Response {
        let prepared = try prepare(request, payloadHash: payloadHash, date: Date())
        return try slots.withSlot {
            tallyBox.update { tally in
                Self.count(request.kind, in: &tally)
                tally.bytesSent += request.body.count
            }
            let response: HTTPClient.Response
            do {
                response = try http.execute(request: prepared, deadline: nil).wait()
            } catch {
                throw S3TransportFailure(error)
            }
            let body = response.body.map { Data(buffer: $0) } ?? Data()
            tallyBox.update { $0.bytesReceived += body.count }
            return S3Response(status: Int(response.status.code), headers: response.headers, body: body, attempts: attempt)
        }
    }

    /// The request addressed (path- or virtual-host style) and signed.
    func prepare(_ request: S3Request, payloadHash: String? = nil, date: Date) throws -> HTTPClient.Request {
        let (host, path) = address(request.objectKey)
        let payloadHash = payloadHash ?? self.payloadHash(of: request)
        var headers = request.headers
        headers.append(("host", host))
        headers.append(("x-amz-date", S3Dates.amzDate(date)))
        headers.append(("x-amz-content-sha256", payloadHash))
        if let token = credentials.sessionToken { headers.append(("x-amz-security-token", token)) }
        let signer = SigV4(accessKeyID: credentials.accessKeyID, secretAccessKey: credentials.secretAccessKey, region: location.region)
        let authorization = signer.authorization(method: request.method.rawValue, path: path, query: request.query,
                                                 headers: headers, payloadHash: payloadHash, date: date)
        let query = SigV4.canonicalQuery(request.query)
        let scheme = location.endpoint.scheme ?? "https"
        var httpHeaders = HTTPHeaders(headers)
        httpHeaders.add(name: "Authorization", value: authorization)
        httpHeaders.add(name: "User-Agent", value: "vbackup")
        let hasBody = !request.body.isEmpty || request.method == .PUT || request.method == .POST
        do {
            return try HTTPClient.Request(url: "\(scheme)://\(host)\(path)\(query.isEmpty ? "" : "?" + query)", method: request.method,
                                          headers: httpHeaders, body: hasBody ? .data(request.body) : nil)
        } catch {
            throw S3TransportError(reason: "cannot form a request to \(location.endpoint.absoluteString): \(error)", attempts: 0)
        }
    }

    /// `host[:port]` and the encoded path for an object key, or for the bucket when nil.
    func address(_ objectKey: String?) -> (host: String, path: String) {
        var host = location.endpoint.host ?? ""
        if host.contains(":") { host = "[\(host)]" }  // an IPv6 literal
        if let port = location.endpoint.port { host += ":\(port)" }
        let encodedKey = objectKey.map { SigV4.uriEncode($0, keepSlash: true) }
        if location.pathStyle {
            return (host, "/\(location.bucket)" + (encodedKey.map { "/" + $0 } ?? ""))
        }
        return ("\(location.bucket).\(host)", "/" + (encodedKey ?? ""))
    }

    private static func count(_ kind: S3Request.Kind, in tally: inout RequestTally) {
        switch kind {
        case .put: tally.puts += 1
        case .get: tally.gets += 1
        case .head: tally.heads += 1
        case .list: tally.lists += 1
        case .delete: tally.deletes += 1
        case .other: tally.other += 1
        }
    }
}

/// One HTTP client per connection count and trusted CA file, shared by every adapter of the
/// process and never shut down (like `HTTPClient.shared`): its pool allows as many connections
/// per host as the adapter's parallel limit. Redirects are not followed (S3 names the right
/// region in an error instead), and a refused connection fails at once: the client retries on
/// its own terms.
enum S3HTTP {
    private static let clients = Locked([String: HTTPClient]())

    static func client(connections: Int, trust: S3Trust? = nil) -> HTTPClient {
        clients.update { clients in
            let key = "\(connections) \(trust?.file ?? "")"
            if let client = clients[key] { return client }
            var configuration = HTTPClient.Configuration()
            if let trust {
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.additionalTrustRoots = [.certificates(trust.certificates)]
                configuration.tlsConfiguration = tls
            }
            configuration.redirectConfiguration = .disallow
            configuration.timeout = HTTPClient.Configuration.Timeout(connect: .seconds(10), read: .seconds(60))
            configuration.timeout.write = .seconds(60)
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.decompression = .disabled
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[key] = client
            return client
        }
    }
}

/// A value shared between threads behind a lock.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value { lock.withLock { stored } }

    @discardableResult
    func update<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try lock.withLock { try body(&stored) }
    }
}
