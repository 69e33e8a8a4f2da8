import Foundation
import NIOHTTP1
@testable import S3Storage
import XCTest

/// A lab RGW bucket for one CLI test: its `s3://` URL and the environment that gives `vbackup`
/// the lab's credentials. The CLI creates it (`store init --object-lock`); `remove()` waits for
/// what is still retained (at most a minute), then deletes every version and the bucket.
struct LockedBucket {
    let name = "vbt-lock-" + String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))
    let endpoint: String
    let credentials: S3Credentials

    init() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["VBACKUP_TEST_S3_ENDPOINT"], !endpoint.isEmpty,
              let access = environment["VBACKUP_TEST_S3_ACCESS_KEY"], !access.isEmpty,
              let secret = environment["VBACKUP_TEST_S3_SECRET_KEY"], !secret.isEmpty else {
            throw Missing()
        }
        self.endpoint = endpoint
        credentials = S3Credentials(accessKeyID: access, secretAccessKey: secret)
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "VBACKUP_TEST_S3_ENDPOINT, VBACKUP_TEST_S3_ACCESS_KEY and VBACKUP_TEST_S3_SECRET_KEY must be set: "
                + "run `.ci/rgw start` and eval \"$(.ci/rgw env)\""
        }
    }

    var url: String { "s3://\(name)/?endpoint=\(endpoint)&region=us-east-1" }

    var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey, "AWS_SESSION_TOKEN": ""]
    }

    /// Best effort (teardown): nothing to do when the bucket was never created.
    func remove() {
        guard let adapter = try? S3StorageAdapter(location: S3Location(parsing: url), credentials: credentials, create: false) else { return }
        let dates = (try? adapter.list(prefix: "").compactMap { try adapter.retention(of: $0.key) }) ?? []
        if let latest = dates.max() {
            let seconds = min(latest.timeIntervalSinceNow, 60) + 1
            if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
        }
        for object in (try? adapter.list(prefix: "")) ?? [] { try? adapter.delete(object.key) }
        if let versions = try? adapter.send(name, S3Request(.GET, nil, kind: .list, query: [("versions", "")])).xml {
            for entry in versions.elements("Version") + versions.elements("DeleteMarker") {
                guard let key = entry.value("Key"), let id = entry.value("VersionId") else { continue }
                _ = try? adapter.send(key, S3Request(.DELETE, key, kind: .delete, query: [("versionId", id)]))
            }
        }
        _ = try? adapter.send(name, S3Request(.DELETE, nil, kind: .other))
    }
}
