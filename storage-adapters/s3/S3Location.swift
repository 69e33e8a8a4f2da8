import Foundation
import StorageAdapter

/// Where a store lives in S3, parsed from `s3://BUCKET/PREFIX?endpoint=…&region=…`.
///
/// Query parameters: `endpoint` (an `http://` or `https://` URL; default AWS's regional
/// endpoint), `region` (default `us-east-1`), `addressing=path|virtual` (default: path when an
/// endpoint is given, virtual-host for AWS), `parallel=N` requests in flight (default 8),
/// `multipart-threshold` and `part-size` (sizes such as `64MiB`; defaults 64 MiB and 16 MiB, so
/// the store's 16 MiB packs go up in one request each), `ca-file=PATH` (a PEM file of CA
/// certificates trusted besides the system's, for an endpoint with a private CA; else
/// `$AWS_CA_BUNDLE`, as AWS's own tools read it). Credentials never go in the URL.
public struct S3Location: Sendable, CustomStringConvertible {
    public var bucket: String
    /// "" or a key prefix ending in "/": every object of the store lives under it.
    public var prefix: String
    public var endpoint: URL
    public var region: String
    /// Path-style (`endpoint/bucket/key`) rather than virtual-host (`bucket.endpoint/key`).
    public var pathStyle: Bool
    public var parallelRequests: Int
    /// Objects larger than this go up as multipart uploads.
    public var multipartThreshold: Int
    public var partSize: Int
    /// CA certificates (PEM) trusted for the endpoint besides the system's; nil: the system's
    /// only (`S3StorageAdapter` then looks at `$AWS_CA_BUNDLE`).
    public var caFile: String?

    static let defaultRegion = "us-east-1"
    static let minimumPartSize = 5 << 20
    static let maximumSinglePut = 5 << 30

    public init(parsing url: String) throws {
        guard let components = URLComponents(string: url), components.scheme?.lowercased() == "s3" else {
            throw Self.bad(url, "not an s3://BUCKET/PREFIX URL")
        }
        if components.user != nil || components.password != nil {
            var redacted = components
            redacted.user = nil
            redacted.password = nil
            throw Self.bad(redacted.string ?? "s3://…", "credentials do not belong in the URL; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                + "put them in vbackup's config file, or in ~/.aws/credentials")
        }
        if components.fragment != nil { throw Self.bad(url, "a URL fragment (#…) has no meaning here") }
        bucket = try Self.bucket(components.host ?? "", url: url)
        prefix = try Self.prefix(components.percentEncodedPath, url: url)
        var options = try Self.options(components.queryItems ?? [], url: url)

        region = options.removeValue(forKey: "region") ?? Self.defaultRegion
        guard !region.isEmpty, region.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw Self.bad(url, "region '\(region)' is not a region name")
        }
        let givenEndpoint = options.removeValue(forKey: "endpoint")
        endpoint = try givenEndpoint.map { try Self.endpoint($0, url: url) }
            ?? URL(string: "https://s3.\(region).amazonaws.com")!
        switch options.removeValue(forKey: "addressing") {
        case nil: pathStyle = givenEndpoint != nil
        case "path": pathStyle = true
        case "virtual": pathStyle = false
        case let other?: throw Self.bad(url, "addressing=\(other): use addressing=path or addressing=virtual")
        }
        parallelRequests = try options.removeValue(forKey: "parallel").map { text in
            guard let n = Int(text), (1...256).contains(n) else { throw Self.bad(url, "parallel=\(text): use a number from 1 to 256") }
            return n
        } ?? 8
        partSize = try Self.size(options.removeValue(forKey: "part-size"), name: "part-size", default: 16 << 20, url: url)
        multipartThreshold = try Self.size(options.removeValue(forKey: "multipart-threshold"), name: "multipart-threshold",
                                           default: 64 << 20, url: url)
        caFile = try options.removeValue(forKey: "ca-file").map { path in
            guard path.hasPrefix("/") else { throw Self.bad(url, "ca-file=\(path): give an absolute path") }
            return path
        }
        if let unknown = options.keys.sorted().first {
            throw Self.bad(url, "unknown parameter '\(unknown)' (known: endpoint, region, addressing, parallel, multipart-threshold, part-size, ca-file)")
        }
        if !pathStyle && bucket.contains(".") && endpoint.scheme == "https" {
            throw Self.bad(url, "bucket '\(bucket)' has dots, which break TLS with virtual-host addressing: add addressing=path")
        }
    }

    /// `s3://bucket/prefix` plus the endpoint and region when they are not AWS's defaults,
    /// in the form `init(parsing:)` reads back.
    public var description: String {
        var text = "s3://\(bucket)/\(prefix)"
        var query: [String] = []
        if endpoint.absoluteString != "https://s3.\(region).amazonaws.com" { query.append("endpoint=\(endpoint.absoluteString)") }
        if region != Self.defaultRegion || !query.isEmpty { query.append("region=\(region)") }
        if let caFile { query.append("ca-file=\(caFile)") }
        if !query.isEmpty { text += "?" + query.joined(separator: "&") }
        return text
    }

    private static func bad(_ url: String, _ why: String) -> StorageError {
        .unusableLocation("S3 location \(url): \(why)")
    }

    /// S3's bucket naming rules: 3-63 lowercase letters, digits, dots and hyphens, starting and
    /// ending with a letter or digit.
    private static func bucket(_ name: String, url: String) throws -> String {
        let ascii = name.utf8
        let valid = (3...63).contains(ascii.count)
            && ascii.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
            && ascii.first.map { $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "-") } == true
            && ascii.last.map { $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "-") } == true
        guard valid else {
            throw bad(url, name.isEmpty ? "no bucket name (s3://BUCKET/PREFIX)"
                : "bucket '\(name)' is not a valid bucket name (3-63 of a-z 0-9 . -, starting and ending with a letter or digit)")
        }
        return name
    }

    /// The URL's path as a key prefix: "" or segments of the key grammar ending in "/".
    private static func prefix(_ path: String, url: String) throws -> String {
        var path = Substring(path)
        if path.hasPrefix("/") { path.removeFirst() }
        if path.hasSuffix("/") { path.removeLast() }
        if path.isEmpty { return "" }
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            if let problem = StorageKey.problem(segment: segment) {
                throw bad(url, "prefix '\(path)': \(problem)")
            }
        }
        return path + "/"
    }

    private static func options(_ items: [URLQueryItem], url: String) throws -> [String: String] {
        var options: [String: String] = [:]
        for item in items {
            guard let value = item.value, !value.isEmpty else { throw bad(url, "parameter '\(item.name)' has no value") }
            guard options.updateValue(value, forKey: item.name) == nil else { throw bad(url, "parameter '\(item.name)' is given twice") }
        }
        return options
    }

    private static func endpoint(_ text: String, url: String) throws -> URL {
        guard let endpoint = URLComponents(string: text), let scheme = endpoint.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = endpoint.host, !host.isEmpty else {
            throw bad(url, "endpoint '\(text)' is not an http:// or https:// URL")
        }
        guard endpoint.path.isEmpty || endpoint.path == "/", endpoint.query == nil, endpoint.user == nil else {
            throw bad(url, "endpoint '\(text)' must be scheme://host[:port] only")
        }
        var clean = endpoint
        clean.path = ""
        return clean.url!
    }

    /// Sizes like `16MiB`, `64M`, `8388608`; binary units only (K = KiB).
    static func parseSize(_ text: String) -> Int? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard let number = Int(digits), !digits.isEmpty else { return nil }
        let shift: Int
        switch text.dropFirst(digits.count).lowercased() {
        case "", "b": shift = 0
        case "k", "kib": shift = 10
        case "m", "mib": shift = 20
        case "g", "gib": shift = 30
        default: return nil
        }
        let (value, overflow) = number.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : value
    }

    private static func size(_ text: String?, name: String, default value: Int, url: String) throws -> Int {
        guard let text else { return value }
        guard let size = parseSize(text) else { throw bad(url, "\(name)=\(text) is not a size (e.g. 16MiB)") }
        guard (minimumPartSize...maximumSinglePut).contains(size) else {
            throw bad(url, "\(name)=\(text) must be between 5MiB and 5GiB (S3's limits)")
        }
        return size
    }
}
