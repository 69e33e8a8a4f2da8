import Foundation
import StorageAdapter

/// An S3 access key pair (and session token for temporary credentials). The secret and the
/// token appear in no description, mirror or error: only the access key id is ever shown.
public struct S3Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String {
        "S3 access key id \(accessKeyID) (secret hidden\(sessionToken == nil ? "" : ", session token hidden"))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID, "secretAccessKey": "(hidden)"], displayStyle: .struct)
    }

    /// Environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN), then `configured`
    /// (vbackup's config file, passed in by the CLI), then the AWS credentials file
    /// (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE or "default").
    /// None found: StorageError.unusableLocation naming the three places.
    public static func resolve(configured: S3Credentials?, environment: [String: String]) throws -> S3Credentials {
        if let fromEnvironment = try fromEnvironment(environment) { return fromEnvironment }
        if let configured { return configured }
        let file = environment["AWS_SHARED_CREDENTIALS_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        let path = file ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.aws/credentials")
        let profile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }
        if let fromFile = try fromFile(path, profile: profile ?? "default", mustExist: file != nil, profileNamed: profile != nil) {
            return fromFile
        }
        throw StorageError.unusableLocation(
            "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, put them in vbackup's config file, "
                + "or in the AWS credentials file (\(path), profile \(profile ?? "default"))")
    }

    private static func fromEnvironment(_ environment: [String: String]) throws -> S3Credentials? {
        let id = environment["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = environment["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        switch (id, secret) {
        case (let id?, let secret?):
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
        case (nil, nil):
            return nil
        case (nil, _?):
            throw StorageError.unusableLocation("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (_?, nil):
            throw StorageError.unusableLocation("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        }
    }

    /// Reads `[profile]` from an AWS credentials file (INI: `key = value`, `#`/`;` comments).
    /// A missing file is no credentials, unless it was named explicitly; a profile named
    /// explicitly (AWS_PROFILE) must exist.
    private static func fromFile(_ path: String, profile: String, mustExist: Bool, profileNamed: Bool) throws -> S3Credentials? {
        guard let data = FileManager.default.contents(atPath: path) else {
            if mustExist || (profileNamed && FileManager.default.fileExists(atPath: path)) {
                throw StorageError.unusableLocation("cannot read the AWS credentials file \(path)")
            }
            if profileNamed { throw StorageError.unusableLocation("AWS_PROFILE is \(profile) but there is no credentials file \(path)") }
            return nil
        }
        let sections = parseINI(String(decoding: data, as: UTF8.self))
        guard let values = sections[profile] else {
            if profileNamed { throw StorageError.unusableLocation("the AWS credentials file \(path) has no profile [\(profile)]") }
            return nil
        }
        guard let id = values["aws_access_key_id"], let secret = values["aws_secret_access_key"] else {
            throw StorageError.unusableLocation(
                "profile [\(profile)] of \(path) lacks aws_access_key_id or aws_secret_access_key")
        }
        return S3Credentials(accessKeyID: id, secretAccessKey: secret, sessionToken: values["aws_session_token"])
    }

    static func parseINI(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                var name = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                if name.hasPrefix("profile ") { name = String(name.dropFirst("profile ".count)).trimmingCharacters(in: .whitespaces) }
                current = name
                sections[name, default: [:]] = sections[name] ?? [:]
                continue
            }
            guard let section = current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            sections[section, default: [:]][key] = value
        }
        return sections
    }
}
