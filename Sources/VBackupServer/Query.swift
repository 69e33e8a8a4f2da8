import Hummingbird

/// The query parameters of the API. A route lists those it accepts (the OpenAPI document
/// lists the same), and any other is refused, so a typo (`limt=5`) is an error rather than a
/// silently ignored filter.
enum QueryParameter: String, Sendable, CaseIterable {
    case host, vm, failed, state, limit, days
}

/// A request's query, each parameter checked by `Validation`.
struct Query: Sendable, Equatable {
    var hostID: String?
    var vm: String?
    var failedOnly = false
    var state: String?
    var limit: Int?
    var days: Int?

    init(_ request: Request, accepted: [QueryParameter]) throws {
        try self.init(request.uri.queryParameters.map { (String($0.key), String($0.value)) }, accepted: accepted)
    }

    /// From decoded (name, value) pairs, in request order.
    init(_ pairs: [(name: String, value: String)], accepted: [QueryParameter]) throws {
        var seen: Set<QueryParameter> = []
        for (key, value) in pairs {
            guard let parameter = QueryParameter(rawValue: key), accepted.contains(parameter) else {
                let shown = key.count > 40 ? String(key.prefix(40)) + "…" : key
                throw APIFailure.badRequest("unknown query parameter '\(shown)'"
                    + (accepted.isEmpty ? "" : " (accepted: \(accepted.map(\.rawValue).joined(separator: ", ")))"))
            }
            guard seen.insert(parameter).inserted else { throw APIFailure.badRequest("query parameter '\(key)' given twice") }
            try set(parameter, value)
        }
    }

    private mutating func set(_ parameter: QueryParameter, _ value: String) throws {
        switch parameter {
        case .host: hostID = try Validation.hostID(value, parameter: "host")
        case .vm: vm = try Validation.vm(value)
        case .failed: failedOnly = try Validation.flag(value, parameter: "failed")
        case .state: state = try Validation.jobState(value)
        case .limit: limit = try Validation.limit(value)
        case .days: days = try Validation.days(value)
        }
    }
}
