import Foundation
import NIOHTTP1
import StorageAdapter

/// `createExclusive` in a versioned bucket (every Object Lock bucket is one).
///
/// RGW 16.2 honours `If-None-Match: *` only in unversioned buckets: in a versioned one every
/// such PUT succeeds and adds a version (checked by hand and by the conformance suite on an
/// Object Lock bucket: 8 of 8 racers "won"). So after the PUT, the writer looks at the key's
/// versions, newest first, down to the newest delete marker: the live run. The oldest version
/// of that run was written first and wins; every other racer deletes its own version and
/// reports false. All racers read the same bucket index, so they agree on the oldest.
///
/// A loser's version is the newest for the few milliseconds until it deletes it, so a reader
/// may briefly see the loser's bytes; the key is held either way.
extension S3StorageAdapter {
    /// Called with the version our PUT created; whether that version won the key. After a
    /// retried PUT the oldest live version may be our own first attempt (its answer lost):
    /// the same bytes say so.
    func settleExclusiveCreate(_ key: String, ourVersion: String, data: Data, retried: Bool) throws -> Bool {
        let versions = try S3Listing.versions(client, objectKey: objectKey(key))
        let live = versions.prefix { !$0.isDeleteMarker }
        if live.last?.versionID == ourVersion { return true }
        let oursFirst = try retried && live.last.map { try version($0.versionID, of: key) == data } == true
        if versions.contains(where: { $0.versionID == ourVersion }) {
            let response = try send(key, S3Request(.DELETE, objectKey(key), kind: .delete, query: [("versionId", ourVersion)]))
            guard response.isSuccess || response.status == 404 else { throw response.error(key: key, "DELETE losing version") }
        }
        return oursFirst
    }

    private func version(_ versionID: String, of key: String) throws -> Data? {
        let response = try send(key, S3Request(.GET, objectKey(key), kind: .get, query: [("versionId", versionID)]))
        return response.status == 200 ? response.body : nil
    }
}
