import Foundation
import NIOHTTP1
import StorageAdapter

/// Paginated listings: ListObjectsV2 (objects under a prefix, page after page through the
/// continuation token) and ListObjectVersions (every version and delete marker of one key).
enum S3Listing {
    struct Object: Sendable {
        var key: String
        var size: Int
        var modified: Date
    }

    /// One version or delete marker of a key.
    struct Version: Sendable {
        var versionID: String
        var isDeleteMarker: Bool
    }

    static func objects(_ client: S3Client, prefix: String, pageSize: Int) throws -> [Object] {
        var objects: [Object] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", String(pageSize))]
            if let token { query.append(("continuation-token", token)) }
            let page = try send(client, S3Request(.GET, nil, kind: .list, query: query), prefix: prefix, "ListObjectsV2")
            for entry in page.elements("Contents") {
                guard let key = entry.value("Key") else { continue }
                objects.append(Object(key: key, size: entry.value("Size").flatMap { Int($0) } ?? 0,
                                      modified: entry.value("LastModified").flatMap(S3Dates.parseISO8601) ?? Date(timeIntervalSince1970: 0)))
            }
            token = page.value("IsTruncated") == "true" ? page.value("NextContinuationToken") : nil
        } while token != nil
        return objects
    }

    /// Versions whose key is exactly `objectKey` (the listing's prefix also matches longer keys).
    static func versions(_ client: S3Client, objectKey: String) throws -> [Version] {
        var versions: [Version] = []
        var markers: (key: String, version: String)?
        repeat {
            var query = [("versions", ""), ("prefix", objectKey)]
            if let markers { query += [("key-marker", markers.key), ("version-id-marker", markers.version)] }
            let page = try send(client, S3Request(.GET, nil, kind: .list, query: query), prefix: objectKey, "ListObjectVersions")
            for (name, isMarker) in [("Version", false), ("DeleteMarker", true)] {
                for entry in page.elements(name) where entry.value("Key") == objectKey {
                    if let id = entry.value("VersionId") { versions.append(Version(versionID: id, isDeleteMarker: isMarker)) }
                }
            }
            if page.value("IsTruncated") == "true", let key = page.value("NextKeyMarker"), let version = page.value("NextVersionIdMarker") {
                markers = (key, version)
            } else {
                markers = nil
            }
        } while markers != nil
        return versions
    }

    private static func send(_ client: S3Client, _ request: S3Request, prefix: String, _ operation: String) throws -> S3XML {
        let response: S3Response
        do {
            response = try Blocking.run { try await client.send(request) }
        } catch let error as S3TransportError {
            throw StorageError.io(key: prefix, message: "S3 \(operation) at \(client.location.endpoint.absoluteString): \(error.reason)")
        }
        guard response.status == 200 else { throw response.error(key: prefix, operation) }
        return response.xml
    }
}
