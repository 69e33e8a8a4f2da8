import FleetAPI
import Foundation
import Hummingbird

/// Reads a request body as JSON: the content type first (415), then the size, both from
/// `Content-Length` and while the bytes arrive, since a chunked body has no length (413),
/// then the decoding, whose failure becomes one line naming the field (400).
enum JSONBody {
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        guard MediaTypes.matches(request.headers[.contentType], "application/json") else {
            throw APIFailure.unsupportedMediaType("application/json")
        }
        let bytes = try await collect(request, limit: maximumRequestBodyBytes)
        do {
            return try APIJSON.decoder().decode(T.self, from: bytes)
        } catch let error as DecodingError {
            throw APIFailure.badRequest(describe(error))
        } catch {
            throw APIFailure.badRequest("body is not valid JSON")
        }
    }

    /// The whole body, refused as soon as it passes `limit`.
    static func collect(_ request: Request, limit: Int) async throws -> Data {
        try checkDeclaredLength(request, limit: limit)
        var data = Data()
        for try await part in request.body {
            guard data.count + part.readableBytes <= limit else { throw APIFailure.tooLarge(limit: limit) }
            data.append(contentsOf: part.readableBytesView)
        }
        return data
    }

    /// Refuses a body whose announced length is over the limit before reading a byte of it.
    static func checkDeclaredLength(_ request: Request, limit: Int) throws {
        if let declared = request.headers[.contentLength], let length = Int(declared), length > limit {
            throw APIFailure.tooLarge(limit: limit)
        }
    }

    /// `body field 'assignment.hosts[0]': …`: where the body went wrong, in one line.
    static func describe(_ error: DecodingError) -> String {
        func place(_ path: [any CodingKey]) -> String {
            guard !path.isEmpty else { return "body" }
            let text = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return "body field '\(text.hasPrefix(".") ? String(text.dropFirst()) : text)'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(place(context.codingPath + [key])): missing"
        case .typeMismatch(let type, let context):
            return "\(place(context.codingPath)): want \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "\(place(context.codingPath)): null where \(typeName(type)) is wanted"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "body is not valid JSON" }
            return "\(place(context.codingPath)): \(OneLine.text(context.debugDescription))"
        @unknown default:
            return "body is not acceptable"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [Any].Type: "an array"
        default: "an object"
        }
    }
}

/// Content types compared by their media type alone (`application/json; charset=utf-8`
/// is JSON).
enum MediaTypes {
    static func matches(_ header: String?, _ wanted: String) -> Bool {
        guard let header else { return false }
        let mediaType = header.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return mediaType.lowercased() == wanted
    }
}

/// Text from elsewhere (a decoder, a parser) as one line.
enum OneLine {
    static func text(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
