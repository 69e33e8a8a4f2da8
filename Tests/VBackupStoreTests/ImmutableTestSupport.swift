import Foundation
import S3Storage
import StorageAdapter
import VBackupStore
import XCTest

/// A small-geometry store in a fresh lab RGW bucket with Object Lock. At teardown it waits for
/// whatever the test left retained (a test that failed midway) to expire, at most a minute, so
/// the bucket can be removed.
struct LockedStore {
    let adapter: S3StorageAdapter
    let store: Store

    init(_ test: XCTestCase) throws {
        let lab = try S3Lab()
        let bucket = "vbt-lock-" + String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))
        let adapter = try S3StorageAdapter(location: lab.location(bucket), credentials: lab.credentials, create: true, objectLock: true)
        self.adapter = adapter
        test.addTeardownBlock {
            let dates = (try? adapter.list(prefix: "").compactMap { try adapter.retention(of: $0.key) }) ?? []
            if let latest = dates.max() { sleep(until: min(latest, Date().addingTimeInterval(60)).addingTimeInterval(1)) }
            try lab.removeBucket(of: adapter)
        }
        store = try Store.create(
            adapter: adapter, cacheDirectory: try makeTemporaryDirectory(test, "cache"), chunkSize: 64 << 10, packSize: 256 << 10)
    }
}

/// Blocks the calling thread until `date` (tests that wait for a retention to pass).
func sleep(until date: Date) {
    let seconds = date.timeIntervalSinceNow
    if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
}
