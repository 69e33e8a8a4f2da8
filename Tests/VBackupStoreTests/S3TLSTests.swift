import Foundation
@testable import S3Storage
import StorageAdapter
import XCTest

/// HTTPS to the lab RGW, whose certificate comes from a CA of the lab's own, as self-hosted
/// gateways' often do. With that CA trusted through `ca-file=` in the URL, or the caller's
/// `$AWS_CA_BUNDLE`, the adapter passes the conformance suite over TLS; without it, or with a
/// CA file that cannot serve, opening fails at once in one line that says what to do.
final class S3TLSTests: XCTestCase {
    private struct TLSLab {
        let lab: S3Lab
        let endpoint: String
        let caFile: String

        init() throws {
            let environment = ProcessInfo.processInfo.environment
            guard let endpoint = environment["VBACKUP_TEST_S3_TLS_ENDPOINT"], !endpoint.isEmpty,
                  let caFile = environment["VBACKUP_TEST_S3_CA_FILE"], !caFile.isEmpty else { throw S3Lab.Missing() }
            lab = try S3Lab()
            self.endpoint = endpoint
            self.caFile = caFile
        }

        func url(_ bucket: String, _ options: String = "") -> String {
            "s3://\(bucket)/?endpoint=\(endpoint)&region=us-east-1" + options
        }
    }

    func testWithItsCATrustedTheAdapterPassesTheConformanceSuiteOverHTTPS() throws {
        let tls = try TLSLab()
        try checkStorageAdapterConformance {
            let adapter = try S3StorageAdapter(location: S3Location(parsing: tls.url(S3Lab.bucketName(), "&ca-file=\(tls.caFile)")),
                                               credentials: tls.lab.credentials, create: true)
            self.addTeardownBlock { try? tls.lab.removeBucket(of: adapter) }
            return adapter
        }
    }

    func testTheCallersCABundleIsTrustedWhenTheURLNamesNone() throws {
        let tls = try TLSLab()
        let location = try S3Location(parsing: tls.url(S3Lab.bucketName()))
        let adapter = try S3StorageAdapter(location: location, credentials: tls.lab.credentials, create: true, caBundle: tls.caFile)
        addTeardownBlock { try? tls.lab.removeBucket(of: adapter) }
        try adapter.put("packs/over-tls", data: s3TestBytes(count: 3 << 20, seed: 7))
        XCTAssertEqual(try adapter.get("packs/over-tls"), s3TestBytes(count: 3 << 20, seed: 7))
        XCTAssertFalse(adapter.location.contains("ca-file"), "the bundle is the caller's, not part of the store's URL")
        let named = try S3Location(parsing: tls.url("b-x", "&ca-file=\(tls.caFile)"))
        XCTAssertEqual(try S3Location(parsing: named.description).caFile, tls.caFile, "ca-file reads back from the description")
    }

    func testAnUntrustedCertificateOrAnUnusableCAFileFailsInOneLine() throws {
        let tls = try TLSLab()
        let bucket = S3Lab.bucketName()
        let untrusted = unusableLocationMessage {
            try S3StorageAdapter(location: S3Location(parsing: tls.url(bucket)), credentials: tls.lab.credentials, create: true)
        }
        XCTAssertEqual(untrusted, "cannot reach S3 endpoint \(tls.endpoint): the server's TLS certificate is not trusted "
            + "(a private CA? name its PEM file with ca-file=PATH in the URL or $AWS_CA_BUNDLE)")

        let notPEM = try makeTemporaryDirectory(self, "tls").appendingPathComponent("not-a-certificate.pem")
        try Data("just text\n".utf8).write(to: notPEM)
        let cases: [(options: String, says: String)] = [
            ("&ca-file=/nonexistent/ca.pem", "CA file /nonexistent/ca.pem cannot be read"),
            ("&ca-file=\(notPEM.path)", "CA file \(notPEM.path) holds no PEM certificate"),
            ("&ca-file=ca.pem", "ca-file=ca.pem: give an absolute path"),
        ]
        for (options, says) in cases {
            let message = unusableLocationMessage {
                try S3StorageAdapter(location: S3Location(parsing: tls.url(bucket, options)), credentials: tls.lab.credentials, create: true)
            }
            XCTAssertTrue(message.contains(says), "\(options): \(message)")
            XCTAssertFalse(message.contains("\n"), message)
        }
        let trusting = try S3StorageAdapter(location: S3Location(parsing: tls.url(S3Lab.bucketName(), "&ca-file=\(tls.caFile)")),
                                            credentials: tls.lab.credentials, create: true)
        addTeardownBlock { try? tls.lab.removeBucket(of: trusting) }
        let stillUntrusted = unusableLocationMessage {
            try S3StorageAdapter(location: S3Location(parsing: tls.url(bucket)), credentials: tls.lab.credentials, create: false)
        }
        XCTAssertTrue(stillUntrusted.contains("not trusted"), "trusting the CA for one store trusts it for no other: \(stillUntrusted)")
    }
}
