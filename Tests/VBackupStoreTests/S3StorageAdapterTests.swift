import Foundation
@testable import S3Storage
import StorageAdapter
import XCTest

/// The S3 adapter against the lab's real Ceph RADOS Gateway (16.2), plus the pure parts
/// (SigV4, URL and credentials parsing) on their own.
final class S3StorageAdapterTests: XCTestCase {
    // MARK: - The contract, on real RGW

    func testPassesTheAdapterConformanceSuiteOnAFreshBucket() throws {
        let lab = try S3Lab()
        try checkStorageAdapterConformance { try lab.freshAdapter(self) }
    }

    func testPassesTheAdapterConformanceSuiteUnderAPrefixAndStaysInsideIt() throws {
        let lab = try S3Lab()
        let adapter = try lab.freshAdapter(self, prefix: "fleet/store-1")
        // An object beside the store, in the same bucket: the prefixed adapter never sees it.
        let whole = try S3StorageAdapter(location: lab.location(adapter.s3Location.bucket), credentials: lab.credentials, create: false)
        try whole.put("outside.bin", data: Data([1]))
        try checkStorageAdapterConformance { adapter }
        let inside = ["a/b/c.bin", "ab/e.bin", "locks/one"] + (0..<16).map { "concurrent/\($0)" }
        XCTAssertEqual(Set(try whole.list(prefix: "").map(\.key)), Set(["outside.bin"] + inside.map { "fleet/store-1/" + $0 }))
    }

    // MARK: - SigV4

    /// AWS's published example: GET examplebucket/test.txt with Range bytes=0-9.
    func testSigV4MatchesAWSPublishedExample() throws {
        let signer = SigV4(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        let date = try XCTUnwrap(S3Dates.parseISO8601("2013-05-24T00:00:00Z"))
        let authorization = signer.authorization(
            method: "GET", path: "/test.txt", query: [],
            headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9"),
                      ("x-amz-content-sha256", SigV4.emptyPayloadHash), ("x-amz-date", S3Dates.amzDate(date))],
            payloadHash: SigV4.emptyPayloadHash, date: date)
        XCTAssertEqual(authorization, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    /// Path style puts the bucket in the path, virtual-host style in the host name; the
    /// signature covers exactly the host and path sent.
    func testAddressesPathStyleAndVirtualHostStyle() throws {
        let credentials = S3Credentials(accessKeyID: "AKID", secretAccessKey: "secret")
        let path = S3Client(location: try S3Location(parsing: "s3://bkt/p?endpoint=http://127.0.0.1:7480"), credentials: credentials,
                            retry: S3RetryPolicy())
        let virtual = S3Client(location: try S3Location(parsing: "s3://bkt/p?region=eu-central-1"), credentials: credentials,
                               retry: S3RetryPolicy())
        let listing = S3Request(.GET, nil, kind: .list, query: [("prefix", "p/a b"), ("list-type", "2")])
        let pathRequest = try path.prepare(S3Request(.GET, "p/k.bin", kind: .get), date: Date())
        XCTAssertEqual(pathRequest.url.absoluteString, "http://127.0.0.1:7480/bkt/p/k.bin")
        XCTAssertEqual(pathRequest.headers["host"], ["127.0.0.1:7480"])
        XCTAssertEqual(try path.prepare(listing, date: Date()).url.absoluteString, "http://127.0.0.1:7480/bkt?list-type=2&prefix=p%2Fa%20b")
        let virtualRequest = try virtual.prepare(S3Request(.GET, "p/k.bin", kind: .get), date: Date())
        XCTAssertEqual(virtualRequest.url.absoluteString, "https://bkt.s3.eu-central-1.amazonaws.com/p/k.bin")
        XCTAssertEqual(virtualRequest.headers["host"], ["bkt.s3.eu-central-1.amazonaws.com"])
        XCTAssertEqual(try virtual.prepare(listing, date: Date()).url.absoluteString,
                       "https://bkt.s3.eu-central-1.amazonaws.com/?list-type=2&prefix=p%2Fa%20b")
        let authorization = try XCTUnwrap(virtualRequest.headers["Authorization"].first)
        XCTAssertTrue(authorization.contains("/eu-central-1/s3/aws4_request") && authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date"),
                      authorization)
    }

    /// Over plain HTTP a body is signed by its SHA-256, which S3 checks on arrival; over HTTPS
    /// TLS already guarantees that, and the body goes as `UNSIGNED-PAYLOAD` (no hashing on
    /// either side). Bodiless requests sign the empty hash either way.
    func testBodiesAreHashedOverHTTPAndLeftToTLSOverHTTPS() throws {
        let credentials = S3Credentials(accessKeyID: "AKID", secretAccessKey: "secret")
        let body = Data("pack bytes".utf8)
        let put = S3Request(.PUT, "p/k.bin", kind: .put, body: body)
        let get = S3Request(.GET, "p/k.bin", kind: .get)
        let plain = S3Client(location: try S3Location(parsing: "s3://bkt/p?endpoint=http://127.0.0.1:7480"), credentials: credentials,
                             retry: S3RetryPolicy())
        let tls = S3Client(location: try S3Location(parsing: "s3://bkt/p?endpoint=https://127.0.0.1:7443"), credentials: credentials,
                           retry: S3RetryPolicy())
        XCTAssertEqual(try plain.prepare(put, date: Date()).headers["x-amz-content-sha256"], [SigV4.sha256Hex(body)])
        XCTAssertEqual(try tls.prepare(put, date: Date()).headers["x-amz-content-sha256"], ["UNSIGNED-PAYLOAD"])
        XCTAssertEqual(try tls.prepare(get, date: Date()).headers["x-amz-content-sha256"], [SigV4.emptyPayloadHash])
        XCTAssertEqual(try plain.prepare(get, date: Date()).headers["x-amz-content-sha256"], [SigV4.emptyPayloadHash])
    }

    // MARK: - Store URLs

    func testParsesStoreURLs() throws {
        let rgw = try S3Location(parsing: "s3://vb-store/fleet/a?endpoint=http://127.0.0.1:7480&region=us-east-1")
        XCTAssertEqual(rgw.bucket, "vb-store")
        XCTAssertEqual(rgw.prefix, "fleet/a/")
        XCTAssertEqual(rgw.endpoint.absoluteString, "http://127.0.0.1:7480")
        XCTAssertTrue(rgw.pathStyle, "an explicit endpoint defaults to path-style")
        XCTAssertEqual(rgw.parallelRequests, 8)
        XCTAssertEqual(rgw.multipartThreshold, 64 << 20)
        XCTAssertEqual(rgw.partSize, 16 << 20)
        XCTAssertEqual(rgw.description, "s3://vb-store/fleet/a/?endpoint=http://127.0.0.1:7480&region=us-east-1")
        XCTAssertEqual(try S3Location(parsing: rgw.description).prefix, "fleet/a/", "the description reads back")

        let aws = try S3Location(parsing: "s3://backups?region=eu-west-1&parallel=32&part-size=8MiB&multipart-threshold=32M")
        XCTAssertEqual(aws.prefix, "")
        XCTAssertEqual(aws.endpoint.absoluteString, "https://s3.eu-west-1.amazonaws.com")
        XCTAssertFalse(aws.pathStyle, "AWS defaults to virtual-host addressing")
        XCTAssertEqual([aws.parallelRequests, aws.partSize, aws.multipartThreshold], [32, 8 << 20, 32 << 20])
        XCTAssertEqual(aws.description, "s3://backups/?region=eu-west-1")

        XCTAssertTrue(try S3Location(parsing: "s3://b1b/?addressing=path").pathStyle)
        XCTAssertFalse(try S3Location(parsing: "s3://b1b/x/?endpoint=https://minio.lan:9000&addressing=virtual").pathStyle)
    }

    func testRefusesBadStoreURLsWithAClearLine() {
        let cases: [(String, String)] = [
            ("file:///x", "not an s3://BUCKET/PREFIX URL"),
            ("s3://AKIA:sekrit@bucket/p", "credentials do not belong in the URL"),
            ("s3:///prefix", "no bucket name"),
            ("s3://Bad_Bucket/", "not a valid bucket name"),
            ("s3://ok-bucket/a//b", "empty path segment"),
            ("s3://ok-bucket/a/../b", "'..' segment"),
            ("s3://ok-bucket/sp%20ace", "characters outside"),
            ("s3://ok-bucket/?endpoint=ftp://h", "is not an http:// or https:// URL"),
            ("s3://ok-bucket/?endpoint=http://h/path", "must be scheme://host[:port] only"),
            ("s3://ok-bucket/?addressing=dns", "use addressing=path or addressing=virtual"),
            ("s3://ok-bucket/?parallel=0", "use a number from 1 to 256"),
            ("s3://ok-bucket/?part-size=1MiB", "between 5MiB and 5GiB"),
            ("s3://ok-bucket/?multipart-threshold=lots", "is not a size"),
            ("s3://ok-bucket/?regoin=x", "unknown parameter 'regoin'"),
            ("s3://ok-bucket/?region=a&region=b", "given twice"),
            ("s3://ok-bucket/?region=", "has no value"),
            ("s3://my.bucket/?endpoint=https://s3.example.com&addressing=virtual", "add addressing=path"),
        ]
        for (url, expected) in cases {
            let message = unusableLocationMessage { try S3Location(parsing: url) }
            XCTAssertTrue(message.contains(expected), "\(url): \(message)")
            XCTAssertFalse(message.contains("sekrit"), "never echoes a secret: \(message)")
        }
    }

    // MARK: - Credentials

    func testResolvesCredentialsFromEnvironmentThenConfigThenCredentialsFile() throws {
        let directory = try makeTemporaryDirectory(self)
        let file = directory.appendingPathComponent("credentials")
        try Data("""
            # comment
            [default]
            aws_access_key_id = FILEDEFAULT
            aws_secret_access_key = file-default-secret

            [profile backup]
            aws_access_key_id=FILEBACKUP
            aws_secret_access_key=file-backup-secret
            aws_session_token = file-token
            """.utf8).write(to: file)
        let configured = S3Credentials(accessKeyID: "CONFIGURED", secretAccessKey: "configured-secret")
        let environment = ["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SHARED_CREDENTIALS_FILE": file.path]

        XCTAssertEqual(try S3Credentials.resolve(configured: configured, environment: environment).accessKeyID, "ENVKEY")
        let withoutKeys = environment.filter { !$0.key.hasPrefix("AWS_ACCESS") && !$0.key.hasPrefix("AWS_SECRET") }
        XCTAssertEqual(try S3Credentials.resolve(configured: configured, environment: withoutKeys).accessKeyID, "CONFIGURED")
        XCTAssertEqual(try S3Credentials.resolve(configured: nil, environment: withoutKeys).accessKeyID, "FILEDEFAULT")
        let profile = try S3Credentials.resolve(configured: nil, environment: withoutKeys.merging(["AWS_PROFILE": "backup"]) { $1 })
        XCTAssertEqual([profile.accessKeyID, profile.secretAccessKey, profile.sessionToken], ["FILEBACKUP", "file-backup-secret", "file-token"])
        // Without AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials under HOME.
        try FileManager.default.createDirectory(at: directory.appendingPathComponent(".aws"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: file, to: directory.appendingPathComponent(".aws/credentials"))
        XCTAssertEqual(try S3Credentials.resolve(configured: nil, environment: ["HOME": directory.path]).accessKeyID, "FILEDEFAULT")

        let none = unusableLocationMessage { try S3Credentials.resolve(configured: nil, environment: ["HOME": "/nonexistent"]) }
        for place in ["AWS_ACCESS_KEY_ID", "config file", "/nonexistent/.aws/credentials"] {
            XCTAssertTrue(none.contains(place), none)
        }
        let missingProfile = unusableLocationMessage {
            try S3Credentials.resolve(configured: nil, environment: withoutKeys.merging(["AWS_PROFILE": "nope"]) { $1 })
        }
        XCTAssertTrue(missingProfile.contains("no profile [nope]"), missingProfile)
        let half = unusableLocationMessage { try S3Credentials.resolve(configured: nil, environment: ["AWS_ACCESS_KEY_ID": "X"]) }
        XCTAssertTrue(half.contains("AWS_SECRET_ACCESS_KEY is not"), half)
    }

    func testCredentialsNeverShowTheSecret() {
        let credentials = S3Credentials(accessKeyID: "AKIDSHOWN", secretAccessKey: "very-secret-key", sessionToken: "secret-token")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, String(reflecting: credentials), "\(credentials)", dumped] {
            XCTAssertTrue(text.contains("AKIDSHOWN"), text)
            XCTAssertFalse(text.contains("very-secret-key") || text.contains("secret-token"), text)
        }
    }

    // MARK: - Multipart, ranges, pagination (real RGW)

    func testMultipartUploadRoundTripsBitExactAndRangesCrossPartBoundaries() throws {
        let lab = try S3Lab()
        let adapter = try lab.freshAdapter(self, options: "&multipart-threshold=8MiB&part-size=5MiB&parallel=4")
        let data = s3TestBytes(count: 40 << 20, seed: 7)
        let before = adapter.requestTally
        try adapter.put("packs/big.pack", data: data)
        let after = adapter.requestTally

        // Start, 8 parts of 5 MiB, complete: all "other"; no single PUT.
        XCTAssertEqual(after.other - before.other, 10)
        XCTAssertEqual(after.puts - before.puts, 0)
        XCTAssertGreaterThanOrEqual(after.bytesSent - before.bytesSent, 40 << 20)
        XCTAssertLessThanOrEqual(adapter.client.slots.maximumInFlight, 4, "never more than parallel=4 in flight")
        XCTAssertGreaterThan(adapter.client.slots.maximumInFlight, 1, "parts go up in parallel")

        XCTAssertEqual(try adapter.stat("packs/big.pack")?.size, 40 << 20)
        XCTAssertTrue(try adapter.get("packs/big.pack") == data, "bit-exact")
        let part = 5 << 20
        for (offset, length) in [(part - 100, 200), (2 * part - 1, part + 2), (0, 1), ((40 << 20) - 10, 10)] {
            XCTAssertTrue(try adapter.getRange("packs/big.pack", offset: offset, length: length) == data.subdata(in: offset..<offset + length),
                          "range \(offset)+\(length)")
        }
        XCTAssertThrowsError(try adapter.getRange("packs/big.pack", offset: (40 << 20) - 10, length: 11), "a short answer is an error")
        XCTAssertEqual(try adapter.list(prefix: "packs/").map(\.size), [40 << 20])

        // Nothing is left half-uploaded.
        let uploads = try adapter.send("uploads", S3Request(.GET, nil, kind: .other, query: [("uploads", "")]))
        XCTAssertTrue(uploads.xml.elements("Upload").isEmpty, String(decoding: uploads.body, as: UTF8.self))
    }

    func testListingPagesThroughMoreKeysThanAPageHolds() throws {
        let lab = try S3Lab()
        let adapter = try lab.freshAdapter(self, options: "&parallel=16", listPageSize: 100)
        try onThreads(250, width: 16) { index in
            try adapter.put(String(format: "chunks/%03d/%03d.pack", index % 7, index), data: Data([UInt8(index % 256)]))
        }
        let before = adapter.requestTally.lists
        let listed = try adapter.list(prefix: "chunks/")
        XCTAssertEqual(adapter.requestTally.lists - before, 3, "250 keys at 100 a page")
        XCTAssertEqual(listed.count, 250)
        XCTAssertEqual(Set(listed.map(\.key)).count, 250, "no key twice across pages")
        XCTAssertEqual(try adapter.list(prefix: "chunks/003/").count, 36)
        XCTAssertTrue(listed.allSatisfy { $0.size == 1 && abs($0.modified.timeIntervalSinceNow) < 600 })
    }

    // MARK: - Init errors, one line each

    func testWrongSecretMissingBucketAndUnreachableEndpointEachFailWithOneClearLine() throws {
        let lab = try S3Lab()
        let adapter = try lab.freshAdapter(self)
        let bucket = adapter.s3Location.bucket

        let wrongSecret = S3Credentials(accessKeyID: lab.credentials.accessKeyID, secretAccessKey: "not-the-secret-at-all")
        let signature = unusableLocationMessage {
            try S3StorageAdapter(location: lab.location(bucket), credentials: wrongSecret, create: false)
        }
        XCTAssertTrue(signature.contains("SignatureDoesNotMatch") && signature.contains("access key id \(lab.credentials.accessKeyID)")
            && signature.contains("wrong secret"), signature)
        XCTAssertFalse(signature.contains("not-the-secret-at-all"), signature)

        let unknownKey = unusableLocationMessage {
            try S3StorageAdapter(location: lab.location(bucket), credentials: S3Credentials(accessKeyID: "NOSUCHKEY", secretAccessKey: "x"), create: false)
        }
        XCTAssertTrue(unknownKey.contains("InvalidAccessKeyId") && unknownKey.contains("NOSUCHKEY"), unknownKey)

        let missing = "vbt-s3-missing-" + String(UUID().uuidString.lowercased().prefix(8))
        let noBucket = unusableLocationMessage {
            try S3StorageAdapter(location: lab.location(missing), credentials: lab.credentials, create: false)
        }
        XCTAssertEqual(noBucket, "S3 bucket \(missing) does not exist at \(lab.endpoint) (NoSuchBucket)")

        let port = try closedLoopbackPort()
        let unreachable = unusableLocationMessage {
            try S3StorageAdapter(location: S3Location(parsing: "s3://\(bucket)/?endpoint=http://127.0.0.1:\(port)"),
                                 credentials: lab.credentials, create: false)
        }
        XCTAssertEqual(unreachable, "cannot reach S3 endpoint http://127.0.0.1:\(port): connection refused")

        let unresolvable = unusableLocationMessage {
            try S3StorageAdapter(location: S3Location(parsing: "s3://\(bucket)/?endpoint=http://vbt-s3.invalid:7480"),
                                 credentials: lab.credentials, create: false)
        }
        XCTAssertEqual(unresolvable, "cannot reach S3 endpoint http://vbt-s3.invalid:7480: the host name does not resolve")
    }

    // MARK: - Retries and the parallel limit (scripted loopback listener)

    /// RGW cannot be made to throttle on demand, so a loopback listener answers 503 SlowDown
    /// twice and then the object: the adapter waits, tries again and counts the retries.
    func testSlowDownIsRetriedWithBackoffAndCounted() throws {
        let server = try FakeS3Server { seen in
            seen.number <= 2 ? .error(503, "SlowDown") : FakeS3Server.Answer(status: 200, body: "payload")
        }
        defer { server.stop() }
        let adapter = try fakeAdapter(server)
        XCTAssertEqual(try adapter.get("k"), Data("payload".utf8))
        XCTAssertEqual(adapter.requestTally.retries, 2)
        XCTAssertEqual(adapter.requestTally.gets, 3)
    }

    func testAConnectionCutBeforeTheAnswerIsRetried() throws {
        let server = try FakeS3Server { seen in seen.number == 1 ? .hangUp : FakeS3Server.Answer(status: 200) }
        defer { server.stop() }
        let adapter = try fakeAdapter(server)
        try adapter.put("k", data: Data([1]))
        XCTAssertEqual(adapter.requestTally.retries, 1)
        XCTAssertEqual(server.requests, 2)
    }

    /// The first PUT lands but its answer is lost; the retry meets 412. The object holds our
    /// bytes, so the create is ours; with someone else's bytes it is not.
    func testACreateWhoseAnswerWasLostIsRecognisedByItsBytes() throws {
        for (stored, expected) in [("mine", true), ("theirs", false)] {
            let server = try FakeS3Server { seen in
                switch (seen.method, seen.number) {
                case ("PUT", 1): return .hangUp
                case ("PUT", _): return .error(412, "PreconditionFailed")
                default: return FakeS3Server.Answer(status: 200, body: stored)
                }
            }
            defer { server.stop() }
            XCTAssertEqual(try fakeAdapter(server).createExclusive("locks/l", data: Data("mine".utf8)), expected, stored)
        }
    }

    func testThrottlingThatNeverEndsFailsAfterBoundedAttemptsNamingTheStatus() throws {
        let server = try FakeS3Server { _ in .error(503, "SlowDown") }
        defer { server.stop() }
        let adapter = try fakeAdapter(server)
        XCTAssertThrowsError(try adapter.put("k", data: Data([1]))) { error in
            XCTAssertEqual(error as? StorageError, .io(key: "k", message: "S3 PUT: 503 SlowDown (scripted) after 4 attempts"))
        }
        XCTAssertEqual(server.requests, 4)
    }

    func testAuthorizationAndMissingObjectsAreNeverRetried() throws {
        let server = try FakeS3Server { seen in seen.method == "PUT" ? .error(403, "AccessDenied") : .error(404, "NoSuchKey") }
        defer { server.stop() }
        let adapter = try fakeAdapter(server)
        XCTAssertThrowsError(try adapter.put("k", data: Data([1]))) { error in
            XCTAssertEqual(error as? StorageError, .io(key: "k", message: "S3 PUT: 403 AccessDenied (scripted)"))
        }
        assertThrows(StorageError.notFound(key: "k")) { _ = try adapter.get("k") }
        XCTAssertEqual(server.requests, 2)
        XCTAssertEqual(adapter.requestTally.retries, 0)
    }

    func testNeverMoreRequestsInFlightThanTheParallelLimit() throws {
        let server = try FakeS3Server { _ in FakeS3Server.Answer(status: 200, body: "x", delay: 0.1) }
        defer { server.stop() }
        let adapter = try fakeAdapter(server, parallel: 3)
        XCTAssertEqual(adapter.preferredConcurrency, 3)
        try onThreads(12, width: 12) { index in _ = try adapter.get("k\(index)") }
        XCTAssertEqual(server.requests, 12)
        XCTAssertEqual(server.maximumInFlight, 3, "the listener saw exactly the limit at once")
    }

    private func fakeAdapter(_ server: FakeS3Server, parallel: Int = 8) throws -> S3StorageAdapter {
        try S3StorageAdapter(location: S3Location(parsing: "s3://vbt-fake/?endpoint=\(server.endpoint)&parallel=\(parallel)"),
                             credentials: S3Credentials(accessKeyID: "FAKE", secretAccessKey: "fake"), create: false, objectLock: false,
                             retry: S3RetryPolicy(attempts: 4, baseDelay: 0.01, maximumDelay: 0.05), listPageSize: 1000)
    }

    /// A loopback port nothing listens on: bound, then closed.
    private func closedLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw StorageError.io(key: "port", message: "cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
