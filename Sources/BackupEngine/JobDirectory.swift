import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A private folder for one backup job's NBD socket and scratch files, where QEMU (running as
/// `libvirt-qemu`) may create them. Removed when the job ends; leftovers of killed runs are
/// recognised by the name prefix and removed by the next run.
struct JobDirectory {
    static let prefix = "vbackup-job-"
    static let parent = URL(fileURLWithPath: "/var/lib/libvirt/qemu")

    let url: URL

    static func create(vmUUID: String) throws -> JobDirectory {
        removeStale(vmUUID: vmUUID)
        let url = parent.appendingPathComponent("\(prefix)\(vmUUID)-\(getpid())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        if let user = getpwnam("libvirt-qemu") {
            _ = chown(url.path, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        chmod(url.path, 0o770)
        return JobDirectory(url: url)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }

    /// Job folders of this VM whose process is gone.
    private static func removeStale(vmUUID: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
        for name in names where name.hasPrefix(prefix + vmUUID + "-") {
            guard let pid = Int32(name.split(separator: "-").last ?? ""), !Leftovers.isAlive(pid) || pid == getpid() else { continue }
            try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
        }
    }
}

/// vbackup's own runtime folder (`/run/vbackup`): locks and short-lived sockets. Unix socket
/// paths must stay under 108 bytes, which paths inside a restore target cannot promise.
enum RuntimeDirectory {
    static let path = "/run/vbackup"

    static func socketPath(_ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return "\(path)/\(name)-\(getpid())-\(UUID().uuidString.prefix(8)).sock"
    }
}

/// One backup or restore at a time per VM on this host: an exclusive `flock` that the kernel
/// releases when the process dies, so a killed run never leaves a stale lock.
final class VMLock {
    private let fd: Int32

    init(vmUUID: String, directory: String = RuntimeDirectory.path) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        fd = open(directory + "/" + vmUUID + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw EngineError.invalidArgument("cannot create lock in \(directory): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw EngineError.invalidArgument("another vbackup job is running for VM \(vmUUID)")
        }
    }

    deinit { close(fd) }
}
