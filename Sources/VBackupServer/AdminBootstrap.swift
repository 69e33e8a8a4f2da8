import FleetDatabase
import Foundation
import Logging

/// The first start of a server: with no admin credential in the database nobody could use the
/// API, so one named "admin" is made and written to a file only root can read. The path is
/// logged; the token never is.
enum AdminBootstrap {
    static let firstAdminName = "admin"

    /// Returns the file written, or nil when an admin credential existed already.
    @discardableResult
    static func ensureAdminCredential(_ repository: any FleetRepository, tokenFile: String, logger: Logger,
                                      now: Date = Date()) async throws -> String? {
        guard try await repository.adminCredentialCount() == 0 else { return nil }
        let token = try await repository.createAdminCredential(name: firstAdminName, now: now)
        do {
            try SecretFile.write(token + "\n", to: tokenFile)
        } catch {
            throw ServerError.startup("created the first admin credential but could not write it to \(tokenFile): \(error); "
                + "make another with `vbackup server admin-token create`")
        }
        logger.notice("created the first admin credential; its token is in \(tokenFile)")
        return tokenFile
    }
}

/// A file of mode 0600 in a folder of mode 0700 (created when missing), written under a temporary
/// name and renamed, so it is never readable by others nor seen half written.
enum SecretFile {
    static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw ServerError.system("cannot create \(temporary)", errno) }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fchmod(descriptor, 0o600) == 0, fsync(descriptor) == 0 else {
            let code = errno
            unlink(temporary)
            throw ServerError.system("cannot write \(temporary)", code)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw ServerError.system("cannot rename \(temporary) to \(path)", code)
        }
    }
}

/// Why the server could not start, in one line.
public enum ServerError: Error, CustomStringConvertible, Sendable {
    case startup(String)
    case system(String, Int32)

    public var description: String {
        switch self {
        case .startup(let message): message
        case .system(let message, let code): "\(message): \(String(cString: strerror(code)))"
        }
    }
}
