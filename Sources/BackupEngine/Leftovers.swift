import Foundation
import LibvirtClient
#if canImport(Glibc)
import Glibc
#endif

/// What a killed vbackup process leaves running: a libvirt pull-mode backup job (it never ends
/// by itself and blocks the VM's next backup) and, for shut-off VMs, an orphaned `qemu-nbd`
/// (started `--persistent`, it holds the image open forever). The agent ends both when it
/// starts, so a restart after a crash leaves the host as clean as a graceful stop.
///
/// Only leftovers of *dead* vbackup processes are touched: each job folder and socket name
/// carries its creator's pid, and a job whose creator still runs (a `vbackup backup` started
/// by hand beside the agent) is not ours to end.
public enum Leftovers {
    /// Ends every leftover; returns one line per thing ended, for the log.
    public static func clean(connection: LibvirtConnection) -> [String] {
        endBackupJobs(connection: connection) + endExports()
    }

    static func endBackupJobs(connection: LibvirtConnection) -> [String] {
        var ended: [String] = []
        for domain in (try? connection.listAllDomains()) ?? [] where (try? domain.hasActiveJob()) == true {
            guard let xml = try? domain.backupXML(), let pid = creatorPID(inBackupXML: xml), !isAlive(pid) else { continue }
            if (try? domain.abortJob()) != nil {
                ended.append("ended the backup job of \(domain.name) left by vbackup process \(pid)")
            }
        }
        return ended
    }

    /// `…/vbackup-job-<uuid>-<pid>/nbd.sock` in the job's backup XML.
    static func creatorPID(inBackupXML xml: String) -> Int32? {
        guard let start = xml.range(of: JobDirectory.prefix) else { return nil }
        let rest = xml[start.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        return rest[..<slash].split(separator: "-").last.flatMap { Int32($0) }
    }

    static func endExports() -> [String] {
        var ended: [String] = []
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { Int32($0) } ?? []
        for pid in pids {
            guard let arguments = commandLine(of: pid), arguments.first?.hasSuffix("qemu-nbd") == true,
                  let socket = arguments.first(where: { $0.hasPrefix("--socket=") }),
                  let creator = creatorPID(inSocketArgument: socket), !isAlive(creator) else { continue }
            kill(pid, SIGTERM)
            ended.append("stopped qemu-nbd \(pid) left by vbackup process \(creator)")
        }
        return ended
    }

    /// `--socket=…/vbackup-job-<uuid>-<pid>/vda.sock` (backups of shut-off VMs) or
    /// `--socket=/run/vbackup/<name>-<pid>-<random>.sock` (restores); nil for anyone else's.
    static func creatorPID(inSocketArgument argument: String) -> Int32? {
        if argument.contains(JobDirectory.prefix) { return creatorPID(inBackupXML: argument) }
        guard argument.hasPrefix("--socket=\(RuntimeDirectory.path)/") else { return nil }
        let file = argument.split(separator: "/").last ?? ""
        let parts = file.split(separator: "-")
        guard parts.count >= 3 else { return nil }
        return Int32(parts[parts.count - 2])
    }

    private static func commandLine(of pid: Int32) -> [String]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Whether a process with this pid exists (EPERM: it does, owned by someone else).
    static func isAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}
