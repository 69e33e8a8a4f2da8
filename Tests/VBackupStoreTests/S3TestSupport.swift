import Foundation
import NIOHTTP1
@testable import S3Storage
import StorageAdapter
import XCTest

/// The lab RGW the S3 tests run against (`.ci/rgw start`; CI always starts it). Missing
/// variables fail the test with this message rather than skipping it.
struct S3Lab {
    let endpoint: String
    let credentials: S3Credentials

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "VBACKUP_TEST_S3_ENDPOINT, VBACKUP_TEST_S3_ACCESS_KEY and VBACKUP_TEST_S3_SECRET_KEY must be set: "
                + "run `.ci/rgw start` and eval \"$(.ci/rgw env)\""
        }
    }

    init() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["VBACKUP_TEST_S3_ENDPOINT"], !endpoint.isEmpty,
              let access = environment["VBACKUP_TEST_S3_ACCESS_KEY"], !access.isEmpty,
              let secret = environment["VBACKUP_TEST_S3_SECRET_KEY"], !secret.isEmpty else { throw Missing() }
        self.endpoint = endpoint
        credentials = S3Credentials(accessKeyID: access, secretAccessKey: secret)
    }

    /// A bucket name no other test (or engineer) uses.
    static func bucketName() -> String {
        "vbt-s3-" + String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))
    }

    func location(_ bucket: String, prefix: String = "", options: String = "") throws -> S3Location {
        try S3Location(parsing: "s3://\(bucket)/\(prefix)?endpoint=\(endpoint)&region=us-east-1" + options)
    }

    /// An adapter on a new bucket that the test's teardown empties and removes.
    func freshAdapter(_ test: XCTestCase, prefix: String = "", options: String = "", objectLock: Bool = false,
                      retry: S3RetryPolicy = S3RetryPolicy(), listPageSize: Int = 1000) throws -> S3StorageAdapter {
        let adapter = try S3StorageAdapter(location: location(Self.bucketName(), prefix: prefix, options: options),
                                           credentials: credentials, create: true, objectLock: objectLock,
                                           retry: retry, listPageSize: listPageSize)
        test.addTeardownBlock { try? self.removeBucket(of: adapter) }
        return adapter
    }

    /// Deletes every object (every version) in the adapter's bucket, then the bucket.
    func removeBucket(of adapter: S3StorageAdapter) throws {
        let whole = try S3StorageAdapter(location: location(adapter.s3Location.bucket), credentials: credentials, create: false)
        for object in try whole.list(prefix: "") { try whole.delete(object.key) }
        // What a failed test may leave in a versioned bucket: old versions and delete markers.
        let versions = try whole.send("bucket", S3Request(.GET, nil, kind: .list, query: [("versions", "")])).xml
        for entry in versions.elements("Version") + versions.elements("DeleteMarker") {
            guard let key = entry.value("Key"), let id = entry.value("VersionId") else { continue }
            _ = try whole.send(key, S3Request(.DELETE, key, kind: .delete, query: [("versionId", id)]))
        }
        let response = try whole.send("bucket", S3Request(.DELETE, nil, kind: .other))
        guard response.isSuccess else { throw response.error(key: adapter.s3Location.bucket, "DeleteBucket") }
    }
}

/// Pseudo-random bytes, fast enough in a debug build for tens of MiB (xorshift, 8 bytes a step).
func s3TestBytes(count: Int, seed: UInt64) -> Data {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var words = [UInt64](repeating: 0, count: (count + 7) / 8)
    for index in words.indices {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        words[index] = state
    }
    return words.withUnsafeBytes { Data($0.prefix(count)) }
}

/// Runs `body(0..<count)` on `width` threads at once (GCD's concurrentPerform would use only
/// as many threads as cores, too few to keep an S3 endpoint busy).
func onThreads(_ count: Int, width: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
    let queue = OperationQueue()
    queue.maxConcurrentOperationCount = width
    let failures = Locked([String]())
    for index in 0..<count {
        queue.addOperation {
            do { try body(index) } catch { failures.update { $0.append("\(index): \(error)") } }
        }
    }
    queue.waitUntilAllOperationsAreFinished()
    if let first = failures.value.first { throw StorageError.io(key: "onThreads", message: first) }
}

/// The one line an init failure gives, or a test failure when it did not fail that way.
func unusableLocationMessage(_ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        _ = try body()
        XCTFail("expected StorageError.unusableLocation, got success", file: file, line: line)
    } catch StorageError.unusableLocation(let message) {
        XCTAssertFalse(message.contains("\n"), "one line: \(message)", file: file, line: line)
        return message
    } catch {
        XCTFail("expected StorageError.unusableLocation, got \(error)", file: file, line: line)
    }
    return ""
}
