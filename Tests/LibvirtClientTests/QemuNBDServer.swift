import Foundation

/// A `qemu-nbd` serving one image on a Unix socket, started by the test. Without `--persistent`
/// it exits when its one client disconnects; `stop()` (safe to call twice) ends it otherwise.
final class QemuNBDServer {
    let socket: String
    private let process = Process()

    init(image: String, socket: String, readOnly: Bool = false) throws {
        self.socket = socket
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["qemu-nbd", "-k", socket, "-f", "qcow2", "-x", "vda"] + (readOnly ? ["-r"] : []) + [image]
        try process.run()
        do { try waitForFile(socket) } catch { stop(); throw error }
    }

    /// Waits for the server to exit after its client disconnected; kills it after `timeout`.
    func waitForExit(timeout: Double = 5, killAfter: Bool = true) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        guard !process.isRunning else {
            if killAfter { stop() }
            return nil
        }
        return process.terminationStatus
    }

    /// Gives qemu-nbd a moment to exit on its own (its client just left), then kills it.
    /// SIGKILL, not SIGTERM: Foundation's `Process` on Linux passes on the spawning thread's
    /// signal mask, which blocks SIGTERM, so `terminate()` would wait forever.
    func stop() {
        guard waitForExit(timeout: 2, killAfter: false) == nil else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
