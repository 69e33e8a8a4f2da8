import FleetAPI
import Foundation

/// Every rule a path parameter, query parameter or request field must meet, in one place.
/// Each check returns the value to use or throws a 400 whose line names the parameter, so
/// nothing malformed reaches the repository (whose SQL binds values anyway: this is the first
/// of two walls, and what makes the error messages useful).
enum Validation {
    static let maximumLimit = 1000
    static let maximumDays = 366
    static let maximumPatterns = 100
    static let maximumPatternLength = 128
    static let maximumEnrollmentSeconds = 30 * 86_400
    static let jobStates: Set<String> = ["running", "succeeded", "failed", "missed", "interrupted", "skipped"]

    /// `^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`: safe in a path, a file name and a log line.
    static func policyName(_ value: String, parameter: String = "name") throws -> String {
        guard (1...64).contains(value.utf8.count), let first = value.unicodeScalars.first, isAlphanumeric(first),
              value.unicodeScalars.allSatisfy({ isAlphanumeric($0) || "._-".unicodeScalars.contains($0) }) else {
            throw refusal(parameter, value, "a policy name: 1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit")
        }
        return value
    }

    /// Host ids are UUIDs; the repository keeps them in lower case.
    static func hostID(_ value: String, parameter: String = "id") throws -> String {
        guard value.utf8.count == 36, let uuid = UUID(uuidString: value) else { throw refusal(parameter, value, "a host id (UUID)") }
        return uuid.uuidString.lowercased()
    }

    static func version(_ value: String) throws -> Int {
        try integer(value, parameter: "version", in: 1...Int(Int32.max), wanted: "a version number (1, 2, ...)")
    }

    static func limit(_ value: String) throws -> Int {
        try integer(value, parameter: "limit", in: 1...maximumLimit, wanted: "an integer 1-\(maximumLimit)")
    }

    static func days(_ value: String) throws -> Int {
        try integer(value, parameter: "days", in: 1...maximumDays, wanted: "an integer 1-\(maximumDays)")
    }

    static func flag(_ value: String, parameter: String) throws -> Bool {
        switch value {
        case "true": return true
        case "false": return false
        default: throw refusal(parameter, value, "true or false")
        }
    }

    static func jobState(_ value: String) throws -> String {
        guard jobStates.contains(value) else { throw refusal("state", value, "one of \(jobStates.sorted().joined(separator: ", "))") }
        return value
    }

    /// A VM name or UUID. libvirt allows almost any name; the API accepts the characters VM
    /// names are made of in practice, which keeps quotes, slashes and spaces out of queries.
    static func vm(_ value: String) throws -> String {
        guard (1...200).contains(value.utf8.count),
              value.unicodeScalars.allSatisfy({ isAlphanumeric($0) || "._:+@-".unicodeScalars.contains($0) }) else {
            throw refusal("vm", value, "a VM name or UUID: 1-200 of A-Z a-z 0-9 . _ : + @ -")
        }
        return value
    }

    /// A DNS name: 1-253 of `[A-Za-z0-9.-]`.
    static func hostName(_ value: String, parameter: String = "hostName") throws -> String {
        guard (1...253).contains(value.utf8.count),
              value.unicodeScalars.allSatisfy({ isAlphanumeric($0) || $0 == "." || $0 == "-" }) else {
            throw refusal(parameter, value, "a host name: 1-253 of A-Z a-z 0-9 . -")
        }
        return value
    }

    /// Host-name globs and group names: printable, 1-128 characters, at most 100 of them.
    static func patterns(_ values: [String], parameter: String) throws {
        guard values.count <= maximumPatterns else {
            throw APIFailure.badRequest("\(parameter): at most \(maximumPatterns) entries, got \(values.count)")
        }
        for (index, value) in values.enumerated() {
            guard (1...maximumPatternLength).contains(value.count), isPrintable(value) else {
                throw refusal("\(parameter)[\(index)]", value, "1-\(maximumPatternLength) printable characters")
            }
        }
    }

    static func assignment(_ assignment: PolicyAssignment) throws {
        try patterns(assignment.hosts, parameter: "assignment.hosts")
        try patterns(assignment.groups, parameter: "assignment.groups")
    }

    static func enrollmentTokenRequest(_ request: EnrollmentTokenRequest) throws {
        if let name = request.hostName { _ = try hostName(name) }
        try patterns(request.groups, parameter: "groups")
        if let seconds = request.expiresInSeconds, !(1...maximumEnrollmentSeconds).contains(seconds) {
            throw APIFailure.badRequest("expiresInSeconds: want 1-\(maximumEnrollmentSeconds) (30 days), got \(seconds)")
        }
    }

    static func enrollRequest(_ request: EnrollRequest) throws {
        _ = try hostName(request.hostName)
        guard (1...100).contains(request.agentVersion.count), isPrintable(request.agentVersion) else {
            throw refusal("agentVersion", request.agentVersion, "1-100 printable characters")
        }
    }

    /// A batch is stored whole or not at all, so every report is checked before any is stored.
    static func reportBatch(_ batch: ReportBatch) throws {
        guard batch.reports.count <= maximumReportsPerBatch else {
            throw APIFailure.badRequest("reports: at most \(maximumReportsPerBatch) per batch, got \(batch.reports.count)")
        }
        for report in batch.reports {
            guard report.id.utf8.count == 36, UUID(uuidString: report.id) != nil else {
                throw refusal("reports[].id", report.id, "a UUID")
            }
            if let problem = report.problem { throw APIFailure.badRequest(problem) }
        }
    }

    // MARK: -

    private static func integer(_ value: String, parameter: String, in range: ClosedRange<Int>, wanted: String) throws -> Int {
        guard value.utf8.count <= 12, value.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let number = Int(value),
              range.contains(number) else { throw refusal(parameter, value, wanted) }
        return number
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar))
    }

    private static func isPrintable(_ value: String) -> Bool {
        !value.unicodeScalars.contains { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }
    }

    /// `parameter 'limit': want an integer 1-1000, got 'abc'`; the value is cut short so a
    /// megabyte of garbage does not come back in the answer.
    private static func refusal(_ parameter: String, _ value: String, _ wanted: String) -> APIFailure {
        let shown = value.count > 40 ? String(value.prefix(40)) + "…" : value
        return .badRequest("parameter '\(parameter)': want \(wanted), got '\(shown)'")
    }
}
