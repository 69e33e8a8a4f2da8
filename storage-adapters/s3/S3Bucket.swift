import Foundation
import NIOHTTP1
import StorageAdapter

/// Opening a bucket: the one request that proves the endpoint answers, the credentials are
/// right and the bucket exists (GET ?object-lock, which also says whether it can retain), and
/// creating the bucket when asked. Each way it can fail is one line naming what is wrong.
enum S3Bucket {
    /// Whether the bucket has Object Lock enabled.
    static func open(_ client: S3Client, create: Bool, objectLock: Bool) throws -> Bool {
        let response = try send(client, S3Request(.GET, nil, kind: .other, query: [("object-lock", "")]))
        switch (response.status, response.code) {
        case (200, _):
            return response.xml.value("ObjectLockEnabled") == "Enabled"
        case (404, "NoSuchBucket"):
            guard create else {
                throw unusable("S3 bucket \(client.location.bucket) does not exist at \(client.location.endpoint.absoluteString) (NoSuchBucket)")
            }
            return try make(client, objectLock: objectLock)
        case (404, _), (501, _):
            return false  // the bucket answers but has no lock configuration, or the server has no Object Lock
        default:
            throw unusable(explain(response, client: client))
        }
    }

    private static func make(_ client: S3Client, objectLock: Bool) throws -> Bool {
        var request = S3Request(.PUT, nil, kind: .other)
        if objectLock { request.headers.append(("x-amz-bucket-object-lock-enabled", "true")) }
        if client.location.region != S3Location.defaultRegion {
            request.body = Data(("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<LocationConstraint>\(client.location.region)</LocationConstraint></CreateBucketConfiguration>").utf8)
        }
        let response = try send(client, request)
        switch (response.status, response.code) {
        case (200, _):
            return objectLock
        case (409, "BucketAlreadyOwnedByYou"):
            return try open(client, create: false, objectLock: objectLock)  // another host just made it
        case (409, "BucketAlreadyExists"):
            throw unusable("S3 bucket \(client.location.bucket) at \(client.location.endpoint.absoluteString) belongs to another account (BucketAlreadyExists)")
        default:
            throw unusable("cannot create S3 bucket \(client.location.bucket): " + explain(response, client: client))
        }
    }

    /// The reason a bucket call was refused, in terms of what to fix.
    static func explain(_ response: S3Response, client: S3Client) -> String {
        let endpoint = client.location.endpoint.absoluteString
        let id = client.credentials.accessKeyID
        let bucket = client.location.bucket
        switch response.code {
        case "SignatureDoesNotMatch":
            return "S3 at \(endpoint) refused the signature of access key id \(id): wrong secret access key (SignatureDoesNotMatch)"
        case "InvalidAccessKeyId":
            return "S3 at \(endpoint) does not know access key id \(id) (InvalidAccessKeyId)"
        case "AccessDenied", "Forbidden":
            return "access key id \(id) may not use S3 bucket \(bucket) at \(endpoint) (\(response.code))"
        case "RequestTimeTooSkewed":
            return "this host's clock is too far from the S3 server's at \(endpoint) (RequestTimeTooSkewed)"
        case "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException":
            let region = response.header("x-amz-bucket-region") ?? response.xml.value("Region")
            return "S3 bucket \(bucket) is not in region \(client.location.region)"
                + (region.map { ": add region=\($0) to the URL" } ?? "") + " (\(response.code))"
        default:
            return "S3 at \(endpoint), bucket \(bucket): " + response.failure("request")
        }
    }

    /// Sends a bucket call; no answer at all means the endpoint is unreachable.
    private static func send(_ client: S3Client, _ request: S3Request) throws -> S3Response {
        do {
            return try Blocking.run { try await client.send(request) }
        } catch let error as S3TransportError {
            throw unusable("cannot reach S3 endpoint \(client.location.endpoint.absoluteString): \(error.reason)"
                + (error.attempts > 1 ? " (after \(error.attempts) attempts)" : ""))
        }
    }

    private static func unusable(_ message: String) -> StorageError { .unusableLocation(message) }
}
