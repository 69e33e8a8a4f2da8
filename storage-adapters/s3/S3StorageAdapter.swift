import Foundation
import NIOHTTP1
import StorageAdapter

/// A storage adapter over an S3 bucket (AWS, Ceph RGW, MinIO, …): each key is an object under
/// the location's prefix.
///
/// How the contract maps onto S3: `put` is a single PUT (atomic by S3's own guarantee) or, above
/// the multipart threshold, a multipart upload that becomes visible whole on completion and is
/// aborted on failure; `createExclusive` is a PUT with `If-None-Match: *`; `list` pages through
/// ListObjectsV2; `delete` in a versioned bucket (Object Lock implies versioning) removes every
/// version of the key so the space is really freed. Methods block the calling thread while the
/// request runs on AsyncHTTPClient's event loops.
public final class S3StorageAdapter: RetainingStorageAdapter, RequestCountingStorageAdapter {
    public let s3Location: S3Location
    public let canRetain: Bool
    let client: S3Client
    /// Keys per ListObjectsV2 page (S3's maximum is 1,000; tests ask for fewer).
    let listPageSize: Int
    /// Whether the bucket keeps old versions: known from Object Lock, or learned from the first
    /// DELETE that answers with a delete marker.
    let versioned: Locked<Bool>

    /// Checks the bucket (one request) so that a wrong secret, a missing bucket or an unreachable
    /// endpoint fail here with one clear line each. With `create`, a missing bucket is created
    /// (with Object Lock enabled when `objectLock`); an existing one is used as it is.
    /// `caBundle`: a PEM file of CA certificates to trust when the URL names no `ca-file`
    /// (callers pass `$AWS_CA_BUNDLE`).
    public convenience init(location: S3Location, credentials: S3Credentials, create: Bool, objectLock: Bool = false,
                            caBundle: String? = nil) throws {
        try self.init(location: location, credentials: credentials, create: create, objectLock: objectLock,
                      retry: S3RetryPolicy(), listPageSize: 1000, caBundle: caBundle)
    }

    init(location: S3Location, credentials: S3Credentials, create: Bool, objectLock: Bool,
         retry: S3RetryPolicy, listPageSize: Int, caBundle: String? = nil) throws {
        // The fields are public and settable; hold a hand-built location to what parsing allows.
        guard (1...256).contains(location.parallelRequests),
              (S3Location.minimumPartSize...S3Location.maximumSinglePut).contains(location.partSize),
              (S3Location.minimumPartSize...S3Location.maximumSinglePut).contains(location.multipartThreshold) else {
            throw StorageError.unusableLocation("S3 location \(location): parallel must be 1-256, part size and multipart threshold 5MiB-5GiB")
        }
        s3Location = location
        client = S3Client(location: location, credentials: credentials, retry: retry,
                          trust: try S3Trust.load(location: location, caBundle: caBundle))
        self.listPageSize = listPageSize
        canRetain = try S3Bucket.open(client, create: create, objectLock: objectLock)
        versioned = Locked(canRetain)
    }

    public var location: String { s3Location.description }
    public var preferredConcurrency: Int { s3Location.parallelRequests }
    /// 32 MiB: half the PUTs of 16 MiB objects per GiB (requests are what S3 bills and waits
    /// on), still one request each, below the multipart threshold.
    public var preferredObjectSize: Int { min(32 << 20, s3Location.multipartThreshold) }
    public var requestTally: RequestTally { client.tally }

    public func put(_ key: String, data: Data) throws {
        try StorageKey.validate(key)
        try write(key, data: data, headers: [])
    }

    /// A PUT with `If-None-Match: *`: S3 refuses it with 412 when the key exists, atomically.
    /// In a versioned bucket (the PUT answers with a version id) RGW 16.2 ignores the
    /// condition, and the race is settled by the key's versions instead (`settleExclusiveCreate`).
    public func createExclusive(_ key: String, data: Data) throws -> Bool {
        try StorageKey.validate(key)
        let response = try send(key, S3Request(.PUT, objectKey(key), kind: .put,
                                               headers: [("If-None-Match", "*")] + integrityHeaders(data), body: data))
        switch response.status {
        case 200:
            guard let version = response.header("x-amz-version-id"), version != "null" else { return true }
            versioned.update { $0 = true }
            return try settleExclusiveCreate(key, ourVersion: version, data: data, retried: response.attempts > 1)
        case 412:
            // A retry may find the object its own lost-answer attempt wrote: then it is ours.
            return response.attempts > 1 && (try? get(key)) == data
        default:
            throw response.error(key: key, "PUT If-None-Match")
        }
    }

    public func get(_ key: String) throws -> Data {
        try StorageKey.validate(key)
        let response = try send(key, S3Request(.GET, objectKey(key), kind: .get))
        guard response.status == 200 else { throw notFoundOr(response, key: key, "GET") }
        return response.body
    }

    /// A ranged GET; an answer shorter than asked (a range past the end) is an `.io` error.
    public func getRange(_ key: String, offset: Int, length: Int) throws -> Data {
        try StorageKey.validate(key)
        guard offset >= 0, length >= 0 else {
            throw StorageError.io(key: key, message: "invalid range offset \(offset) length \(length)")
        }
        if length == 0 {  // HTTP has no empty range; the object must still exist
            guard try stat(key) != nil else { throw StorageError.notFound(key: key) }
            return Data()
        }
        let response = try send(key, S3Request(.GET, objectKey(key), kind: .get,
                                               headers: [("Range", "bytes=\(offset)-\(offset + length - 1)")]))
        let data: Data
        switch response.status {
        case 206: data = response.body
        case 200: data = response.body.count > offset ? response.body.subdata(in: offset..<min(response.body.count, offset + length)) : Data()
        case 416: data = Data()
        default: throw notFoundOr(response, key: key, "GET range")
        }
        guard data.count == length else {
            throw StorageError.io(key: key, message: "range \(offset)+\(length) past end of object (read \(data.count))")
        }
        return data
    }

    public func stat(_ key: String) throws -> ObjectInfo? {
        try StorageKey.validate(key)
        let response = try send(key, S3Request(.HEAD, objectKey(key), kind: .head))
        switch response.status {
        case 200: return Self.info(key: key, headers: response)
        case 404: return nil
        default: throw response.error(key: key, "HEAD")
        }
    }

    public func list(prefix: String) throws -> [ObjectInfo] {
        try StorageKey.validatePrefix(prefix)
        return try S3Listing.objects(client, prefix: s3Location.prefix + prefix, pageSize: listPageSize).map { object in
            ObjectInfo(key: String(object.key.dropFirst(s3Location.prefix.count)), size: object.size, modified: object.modified)
        }
    }

    /// A DELETE; in a versioned bucket, every version and delete marker of the key too.
    public func delete(_ key: String) throws {
        try StorageKey.validate(key)
        if versioned.value { return try deleteAllVersions(key) }
        let response = try send(key, S3Request(.DELETE, objectKey(key), kind: .delete))
        guard response.isSuccess || response.status == 404 else { throw response.error(key: key, "DELETE") }
        if response.header("x-amz-delete-marker") == "true" {
            versioned.update { $0 = true }
            try deleteAllVersions(key)
        }
    }

    // MARK: - Shared by the extensions

    func objectKey(_ key: String) -> String { s3Location.prefix + key }

    /// Writes `data` in one PUT or, above the threshold, as a multipart upload.
    func write(_ key: String, data: Data, headers: [(String, String)]) throws {
        if data.count > s3Location.multipartThreshold {
            return try putMultipart(key, data: data, headers: headers)
        }
        try putSingle(key, data: data, headers: headers)
    }

    func putSingle(_ key: String, data: Data, headers: [(String, String)]) throws {
        let response = try send(key, S3Request(.PUT, objectKey(key), kind: .put, headers: headers + integrityHeaders(data), body: data))
        guard response.status == 200 else { throw response.error(key: key, "PUT") }
    }

    /// Content-MD5, which S3 demands for any write into a bucket with Object Lock.
    func integrityHeaders(_ data: Data) -> [(String, String)] {
        canRetain ? [("Content-MD5", S3Digest.md5Base64(data))] : []
    }

    /// Sends one request for `key`; no answer after the retries is an `.io` error naming why.
    func send(_ key: String, _ request: S3Request) throws -> S3Response {
        let client = client
        do {
            return try client.send(request)
        } catch let error as S3TransportError {
            throw StorageError.io(key: key, message: "S3 \(request.method.rawValue) to \(s3Location.endpoint.absoluteString): "
                + error.reason + (error.attempts > 1 ? " after \(error.attempts) attempts" : ""))
        }
    }

    func notFoundOr(_ response: S3Response, key: String, _ operation: String) -> StorageError {
        response.status == 404 && response.code != "NoSuchBucket" ? .notFound(key: key) : response.error(key: key, operation)
    }

    static func info(key: String, headers response: S3Response) -> ObjectInfo {
        ObjectInfo(key: key, size: response.header("Content-Length").flatMap { Int($0) } ?? 0,
                   modified: response.header("Last-Modified").flatMap(S3Dates.parseHTTPDate) ?? Date(timeIntervalSince1970: 0))
    }
}
