import Foundation

/// A read-only `qemu-nbd` export of a shut-off VM's image (libvirt cannot back up an inactive
/// domain), optionally with a persistent bitmap exposed as `qemu:dirty-bitmap:NAME`.
final class QemuNBDExport {
    let socketPath: String
    let exportName: String
    private let process: Process

    init(imagePath: String, format: String, exportName: String, socketPath: String, bitmap: String?,
         writable: Bool = false, maxConnections: Int = 4) throws {
        self.socketPath = socketPath
        self.exportName = exportName
        var args = ["--format=\(format)", "--export-name=\(exportName)", "--socket=\(socketPath)", "--shared=\(max(1, maxConnections))", "--persistent", "--cache=none", "--aio=native"]
        if !writable { args.append("--read-only") }
        if let bitmap { args.append("--bitmap=\(bitmap)") }
        args.append(imagePath)
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Subprocess.locate("qemu-nbd"))
        process.arguments = args
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        try waitForSocket(errors: errors)
    }

    private func waitForSocket(errors: Pipe) throws {
        for _ in 0..<300 {
            if FileManager.default.fileExists(atPath: socketPath) { return }
            if !process.isRunning {
                let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw EngineError.backupFailed(vm: exportName, reason: "qemu-nbd: " + message.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            usleep(20_000)
        }
        stop()
        throw EngineError.backupFailed(vm: exportName, reason: "qemu-nbd did not open \(socketPath)")
    }

    /// Ends the export; always called, also on errors. SIGTERM first (qemu-nbd flushes and
    /// exits), SIGKILL if it has not gone within two seconds: a child whose signal mask blocks
    /// SIGTERM must never hang the job.
    func stop() {
        if process.isRunning {
            process.terminate()
            for _ in 0..<100 where process.isRunning { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: socketPath)
    }

    deinit { stop() }
}
