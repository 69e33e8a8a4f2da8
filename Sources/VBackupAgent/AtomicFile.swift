import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writes a file so that a reader (or a crash) sees the old content or the new, never half:
/// into a temporary file beside it, created with its final mode (a credential is never
/// readable by others, not even for an instant), flushed, then renamed over the target.
enum AtomicFile {
    static func write(_ data: Data, to url: URL, mode: mode_t = 0o644) throws {
        let directory = url.deletingLastPathComponent().path
        let temporary = "\(directory)/.\(url.lastPathComponent).\(getpid()).tmp"
        unlink(temporary)
        let fd = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failure("create", temporary) }
        var ok = fchmod(fd, mode) == 0  // the umask may have narrowed it; never widen past `mode`
        ok = ok && data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return false }
                offset += written
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        let error = failure("write", temporary)
        close(fd)
        guard ok else {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, url.path) == 0 else {
            let error = failure("rename", url.path)
            unlink(temporary)
            throw error
        }
    }

    private static func failure(_ operation: String, _ path: String) -> AgentError {
        AgentError.invalidArgument("cannot \(operation) \(path): \(String(cString: strerror(errno)))")
    }
}
