import Foundation
import NIOHTTP1
import StorageAdapter

/// Multipart upload for objects above the threshold: start, send the parts (several at once,
/// within the parallel limit), complete. The object appears whole at completion or not at all;
/// any failure aborts the upload so no parts linger (and cost) in the bucket.
///
/// RGW 16.2 answers CompleteMultipartUpload with an empty ETag, so nothing here reads it.
extension S3StorageAdapter {
    func putMultipart(_ key: String, data: Data, headers: [(String, String)]) throws {
        let objectKey = objectKey(key)
        let start = try send(key, S3Request(.POST, objectKey, kind: .other, query: [("uploads", "")], headers: headers))
        guard start.status == 200, let uploadID = start.xml.value("UploadId"), !uploadID.isEmpty else {
            throw start.error(key: key, "CreateMultipartUpload")
        }
        do {
            let etags = try uploadParts(key, data: data, uploadID: uploadID)
            try complete(key, uploadID: uploadID, etags: etags, size: data.count)
        } catch {
            _ = try? send(key, S3Request(.DELETE, objectKey, kind: .other, query: [("uploadId", uploadID)]))
            throw error
        }
    }

    /// Sends every part, at most `parallelRequests` at once; returns their ETags in order.
    private func uploadParts(_ key: String, data: Data, uploadID: String) throws -> [String] {
        let partSize = s3Location.partSize
        let count = (data.count + partSize - 1) / partSize
        let inFlight = s3Location.parallelRequests
        return try Blocking.run { [self] in
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var etags = [String](repeating: "", count: count)
                var next = 0
                func startPart() {
                    let index = next
                    next += 1
                    let range = data.startIndex + index * partSize..<data.startIndex + min(data.count, (index + 1) * partSize)
                    group.addTask { (index, try await self.uploadPart(key, part: Data(data[range]), number: index + 1, uploadID: uploadID)) }
                }
                while next < min(count, inFlight) { startPart() }
                while let (index, etag) = try await group.next() {
                    etags[index] = etag
                    if next < count { startPart() }
                }
                return etags
            }
        }
    }

    private func uploadPart(_ key: String, part: Data, number: Int, uploadID: String) async throws -> String {
        let request = S3Request(.PUT, objectKey(key), kind: .other, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                                headers: integrityHeaders(part), body: part)
        let response: S3Response
        do {
            response = try await client.send(request)
        } catch let error as S3TransportError {
            throw StorageError.io(key: key, message: "S3 UploadPart \(number): \(error.reason) after \(error.attempts) attempts")
        }
        guard response.status == 200, let etag = response.header("ETag"), !etag.isEmpty else {
            throw response.error(key: key, "UploadPart \(number)")
        }
        return etag
    }

    /// CompleteMultipartUpload. S3 may answer 200 with an error document, so the body is
    /// checked too; a retried completion that finds the upload gone (the first one landed but
    /// its answer was lost) is accepted when the object has the expected size.
    private func complete(_ key: String, uploadID: String, etags: [String], size: Int) throws {
        let parts = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(S3XML.escape($0.element))</ETag></Part>" }
        let body = Data(("<CompleteMultipartUpload>" + parts.joined() + "</CompleteMultipartUpload>").utf8)
        let response = try send(key, S3Request(.POST, objectKey(key), kind: .other, query: [("uploadId", uploadID)],
                                               headers: [("Content-Type", "application/xml")] + integrityHeaders(body), body: body))
        if response.status == 200 && response.xml.elements("Error").isEmpty { return }
        if response.code == "NoSuchUpload" && response.attempts > 1, try stat(key)?.size == size { return }
        throw response.error(key: key, "CompleteMultipartUpload")
    }
}
