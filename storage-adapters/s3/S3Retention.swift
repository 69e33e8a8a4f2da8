import Foundation
import NIOHTTP1
import StorageAdapter

/// Object Lock in compliance mode: objects written with a retain-until date that nobody, the
/// bucket's owner included, can delete or shorten before then. Object Lock implies a versioned
/// bucket, so deleting a key means deleting each of its versions (a plain DELETE would only
/// add a delete marker and free nothing).
extension S3StorageAdapter {
    /// One PUT carrying the lock whenever S3 allows one (up to 5 GiB), whatever the multipart
    /// threshold: RGW 16.2 drops the lock headers of CreateMultipartUpload (checked by hand
    /// with boto3 too), and a retention set after the upload would leave a moment unretained.
    /// Only a larger object goes up in parts and has its retention set afterwards.
    public func put(_ key: String, data: Data, retainUntil: Date) throws {
        try StorageKey.validate(key)
        try requireLock(key)
        let lock = [("x-amz-object-lock-mode", "COMPLIANCE"), ("x-amz-object-lock-retain-until-date", S3Dates.iso8601(retainUntil))]
        if data.count <= S3Location.maximumSinglePut {
            try putSingle(key, data: data, headers: lock)
        } else {
            try putMultipart(key, data: data, headers: lock)
            try putRetention(key, until: retainUntil)
        }
    }

    /// Writes the new date straight away (one request): S3 refuses to shorten a compliance
    /// retention with 403, and only then is the stored date read, to tell "already later" (a
    /// success without a change) from a real refusal. The store asks only for dates later than
    /// the ones it knows, so the refusal path is the rare one.
    public func extendRetention(_ key: String, until: Date) throws {
        try StorageKey.validate(key)
        try requireLock(key)
        try putRetention(key, until: until)
    }

    /// PutObjectRetention (compliance mode).
    private func putRetention(_ key: String, until: Date) throws {
        let body = Data(("<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode>"
            + "<RetainUntilDate>\(S3Dates.iso8601(until))</RetainUntilDate></Retention>").utf8)
        let response = try send(key, S3Request(.PUT, objectKey(key), kind: .other, query: [("retention", "")],
                                               headers: [("Content-MD5", S3Digest.md5Base64(body)), ("Content-Type", "application/xml")],
                                               body: body))
        if response.status == 200 { return }
        // Refused: fine when the stored date is already as late (we or another host set it).
        if response.status == 403, let current = try storedRetention(key), current >= until { return }
        throw notFoundOr(response, key: key, "PutObjectRetention")
    }

    /// The retain-until date of the key's current version, nil when it is not (or no longer) retained.
    public func retention(of key: String) throws -> Date? {
        try StorageKey.validate(key)
        let response = try send(key, S3Request(.HEAD, objectKey(key), kind: .head))
        guard response.status == 200 else { throw notFoundOr(response, key: key, "HEAD") }
        guard let date = response.header("x-amz-object-lock-retain-until-date").flatMap(S3Dates.parseISO8601), date > Date() else {
            return nil
        }
        return date
    }

    /// Deletes every version and delete marker of the key. Versions the lock refuses are left
    /// (the others still go) and reported as `.retained` with their date.
    func deleteAllVersions(_ key: String) throws {
        var retainedUntil: Date?
        var refused = false
        for version in try S3Listing.versions(client, objectKey: objectKey(key)) {
            let response = try send(key, S3Request(.DELETE, objectKey(key), kind: .delete, query: [("versionId", version.versionID)]))
            if response.isSuccess || response.status == 404 { continue }
            guard response.status == 403, canRetain else { throw response.error(key: key, "DELETE version") }
            refused = true
            if let until = try? versionRetention(key, versionID: version.versionID) {
                retainedUntil = max(retainedUntil ?? until, until)
            }
        }
        if refused { throw StorageError.retained(key: key, until: retainedUntil) }
    }

    /// GET ?retention: the stored date whether or not it has passed; nil when none was set.
    private func storedRetention(_ key: String) throws -> Date? {
        let response = try send(key, S3Request(.GET, objectKey(key), kind: .other, query: [("retention", "")]))
        switch response.status {
        case 200: return response.xml.value("RetainUntilDate").flatMap(S3Dates.parseISO8601)
        case 404 where ["NoSuchObjectLockConfiguration", "ObjectLockConfigurationNotFoundError"].contains(response.code): return nil  // AWS; RGW 16.2
        default: throw notFoundOr(response, key: key, "GetObjectRetention")
        }
    }

    private func versionRetention(_ key: String, versionID: String) throws -> Date? {
        let response = try send(key, S3Request(.HEAD, objectKey(key), kind: .head, query: [("versionId", versionID)]))
        return response.header("x-amz-object-lock-retain-until-date").flatMap(S3Dates.parseISO8601)
    }

    private func requireLock(_ key: String) throws {
        guard canRetain else {
            throw StorageError.io(key: key, message: "S3 bucket \(s3Location.bucket) has no Object Lock, so it cannot retain objects")
        }
    }
}
