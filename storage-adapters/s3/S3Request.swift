import Foundation
import NIOHTTP1
import StorageAdapter

/// One S3 call as the adapter describes it, before addressing and signing.
struct S3Request: Sendable {
    /// Which tally column the request counts in.
    enum Kind: Sendable { case put, get, head, list, delete, other }

    var method: HTTPMethod
    /// The full object key in the bucket (location prefix included); nil for a bucket call.
    var objectKey: String?
    var query: [(String, String)] = []
    var headers: [(String, String)] = []
    var body = Data()
    var kind: Kind
    /// Whether an equal request may be sent again after a transient failure. Every S3 call the
    /// adapter makes is (a PUT replaces, a DELETE is idempotent, a conditional PUT re-checks).
    var retryable = true

    init(_ method: HTTPMethod, _ objectKey: String?, kind: Kind, query: [(String, String)] = [],
         headers: [(String, String)] = [], body: Data = Data()) {
        self.method = method
        self.objectKey = objectKey
        self.kind = kind
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// What S3 answered, body collected; `code` and `message` come from an XML error document.
struct S3Response: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: Data
    /// How many times the request was sent to get this answer.
    var attempts: Int

    var isSuccess: Bool { (200..<300).contains(status) }

    var xml: S3XML { S3XML(body) }

    /// S3's error code (`NoSuchKey`, `SlowDown`, …); HEAD answers have no body, so the status
    /// stands in for it there.
    var code: String {
        if let code = xml.value("Code"), !code.isEmpty { return code }
        switch status {
        case 404: return "NotFound"
        case 403: return "Forbidden"
        case 412: return "PreconditionFailed"
        default: return HTTPResponseStatus(statusCode: status).reasonPhrase
        }
    }

    var message: String? { xml.value("Message").flatMap { $0.isEmpty ? nil : $0 } }

    func header(_ name: String) -> String? { headers.first(name: name) }

    /// `PUT: 403 AccessDenied (forbidden by object lock)`, plus the attempts when retried.
    func failure(_ operation: String) -> String {
        var text = "\(operation): \(status) \(code)"
        if let message, message != code { text += " (\(message))" }
        if attempts > 1 { text += " after \(attempts) attempts" }
        return text
    }

    func error(key: String, _ operation: String) -> StorageError {
        .io(key: key, message: "S3 " + failure(operation))
    }
}
