import Foundation

/// An NBD export seen as one read-only file, through `nbdfuse` (libnbd-bin): what a loop device
/// can attach where the kernel has no NBD client (no /dev/nbd*).
///
/// nbdfuse runs in its own session (`setsid`), so a Ctrl-C at the terminal reaches vbackup
/// only, and vbackup unmounts in order (the filesystem on the loop device first, the FUSE file
/// last).
final class FuseFile {
    /// The file: `<folder>/disk`.
    let path: String
    private let folder: String
    private let pidFile: String
    private let process: Process

    /// Mounts `uri` at `folder/disk`; returns once nbdfuse serves it (it writes its pid file then).
    init(uri: String, folder: String, logFile: String) throws {
        self.folder = folder
        path = folder + "/disk"
        pidFile = folder + ".pid"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        FileManager.default.createFile(atPath: logFile, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
        defer { try? log.close() }
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Subprocess.locate("setsid"))
        process.arguments = ["--wait", try Subprocess.locate("nbdfuse"), "-r", "-P", pidFile, path, uri]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        do {
            try process.run()
            try waitUntilServing(logFile: logFile)
        } catch {
            stop()
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
    }

    private func waitUntilServing(logFile: String) throws {
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: pidFile) {
            if !process.isRunning || Date() > deadline {
                let said = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
                let reason = said.split(whereSeparator: \.isNewline).last.map(String.init) ?? "it did not start within 30 s"
                throw EngineError.invalidArgument("nbdfuse could not expose the disk: \(reason)")
            }
            usleep(20_000)
        }
    }

    /// Unmounts the FUSE folder (nbdfuse then exits), signals nbdfuse if it lingers, and
    /// removes the folder. Idempotent.
    func stop() {
        if Self.isMountPoint(folder) { _ = try? Subprocess.run("umount", [folder]) }
        for signal in [SIGTERM, SIGKILL] where !exited(within: 2) {
            if let pid = nbdfusePID { kill(pid, signal) }
            kill(process.processIdentifier, signal)
        }
        if process.processIdentifier != 0 { process.waitUntilExit() }
        if Self.isMountPoint(folder) { _ = try? Subprocess.run("umount", ["-l", folder]) }
        try? FileManager.default.removeItem(atPath: pidFile)
        try? FileManager.default.removeItem(atPath: folder)
    }

    private var nbdfusePID: Int32? {
        (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    private func exited(within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return !process.isRunning
    }

    /// Whether `path` is the mount point of something (per /proc/self/mountinfo).
    static func isMountPoint(_ path: String) -> Bool {
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return false }
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && Self.unescape(fields[4]) == resolved
        }
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    private static func unescape(_ field: Substring) -> String {
        field.replacingOccurrences(of: "\\040", with: " ").replacingOccurrences(of: "\\011", with: "\t")
            .replacingOccurrences(of: "\\012", with: "\n").replacingOccurrences(of: "\\134", with: "\\")
    }
}
