import Foundation
import S3Storage
import StorageAdapter
import XCTest

/// A fresh bucket on the real RADOS Gateway that `.ci/rgw` runs (CI always starts it; `make test`
/// starts it too), and the environment that lets `vbackup` reach it. Its objects are deleted when
/// the test ends.
struct S3Lab {
    let endpoint: String
    let accessKey: String
    let secretKey: String
    let bucket: String

    init(_ test: XCTestCase, prefix: String = "vbt") throws {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["VBACKUP_TEST_S3_ENDPOINT"], let accessKey = environment["VBACKUP_TEST_S3_ACCESS_KEY"],
              let secretKey = environment["VBACKUP_TEST_S3_SECRET_KEY"]
        else { throw S3LabError.notConfigured }
        self.endpoint = endpoint
        self.accessKey = accessKey
        self.secretKey = secretKey
        bucket = "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
        let lab = self
        test.addTeardownBlock { lab.empty() }
    }

    /// The store URL of `path` in this lab's bucket.
    func storeURL(_ path: String = "store") -> String {
        "s3://\(bucket)/\(path)?endpoint=\(endpoint)&region=us-east-1"
    }

    /// What `vbackup` needs in its environment to sign requests (never on its command line).
    var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": accessKey, "AWS_SECRET_ACCESS_KEY": secretKey]
    }

    /// An adapter on the bucket (created if missing), for looking at what vbackup wrote.
    func adapter(_ path: String = "store", create: Bool = true) throws -> S3StorageAdapter {
        try S3StorageAdapter(
            location: S3Location(parsing: storeURL(path)),
            credentials: S3Credentials(accessKeyID: accessKey, secretAccessKey: secretKey), create: create)
    }

    /// Deletes every object in the bucket (the memstore OSD keeps them in memory).
    func empty() {
        guard let adapter = try? S3StorageAdapter(
            location: S3Location(parsing: "s3://\(bucket)?endpoint=\(endpoint)&region=us-east-1"),
            credentials: S3Credentials(accessKeyID: accessKey, secretAccessKey: secretKey), create: false),
            let objects = try? adapter.list(prefix: "")
        else { return }
        DispatchQueue.concurrentPerform(iterations: objects.count) { try? adapter.delete(objects[$0].key) }
    }
}

enum S3LabError: Error, CustomStringConvertible {
    case notConfigured

    var description: String {
        "VBACKUP_TEST_S3_ENDPOINT/_ACCESS_KEY/_SECRET_KEY are not set: start the lab RGW with "
            + "eval \"$(.ci/rgw start)\" (make test does)"
    }
}
