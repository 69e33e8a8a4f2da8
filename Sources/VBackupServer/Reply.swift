import FleetAPI
import FleetDatabase
import Foundation
import Hummingbird

/// The server's responses: JSON with `APIJSON`'s encoding, HTML with the headers that keep a
/// browser from running anything the page did not bring itself.
enum Reply {
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let data = try APIJSON.encoder().encode(value)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A refusal's line is cut at this length: it may quote what the client sent.
    static let maximumErrorLength = 8192

    static func error(_ failure: APIFailure) -> Response {
        let message = failure.message.count > maximumErrorLength ? String(failure.message.prefix(maximumErrorLength)) + "…" : failure.message
        // Encoding a struct of one string cannot fail; the fallback keeps this function total.
        var response = (try? json(APIError(message), status: failure.status))
            ?? Response(status: failure.status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"error":"error"}"#)))
        response.headers.append(contentsOf: failure.headers)
        return response
    }

    static let contentSecurityPolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"

    static func html(_ page: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [
            .contentType: "text/html; charset=utf-8",
            .contentSecurityPolicy: contentSecurityPolicy,
            .cacheControl: "no-store",
        ], body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
    }

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }
}

/// The outermost layer: every error becomes `APIError` JSON with its status (see
/// `APIFailure`), server faults are logged with their cause and answered without it, and
/// every response says `nosniff`.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let failure = Self.failure(for: error)
            if failure.status.code >= 500 {
                context.logger.error("\(request.method) \(request.uri.path) failed: \(OneLine.text("\(error)"))")
            } else {
                context.logger.debug("\(request.method) \(request.uri.path): \(failure.status.code) \(OneLine.text("\(error)"))")
            }
            response = Reply.error(failure)
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }

    static func failure(for error: any Error) -> APIFailure {
        switch error {
        case let failure as APIFailure: failure
        case let fleet as FleetError: APIFailure(fleet)
        case let http as HTTPError: APIFailure(status: http.status, message: http.body ?? http.status.reasonPhrase.lowercased(),
                                              headers: http.headers)
        default: .internalError
        }
    }
}
