import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` with a fresh headless Chromium session: starts `chromedriver` on a free port,
/// opens a session with its own profile folder under `folder`, and afterwards deletes the
/// session, stops the driver and removes the profile, also when `body` throws. The driver's
/// log stays in `folder`. Debian's chromium needs
/// `--no-sandbox` when run as root, and `--disable-dev-shm-usage` in containers with a small
/// /dev/shm.
func withChromium<T>(folder: URL, _ body: (WebDriverSession) async throws -> T) async throws -> T {
    let driver = try await ChromeDriver.start(log: folder.appendingPathComponent("chromedriver.log"))
    let profile = folder.appendingPathComponent("chromium-profile")
    let session: WebDriverSession
    do {
        session = try await driver.newSession(profile: profile)
    } catch {
        driver.stop()
        throw error
    }
    func finish() async {
        try? await session.delete()
        driver.stop()
        try? FileManager.default.removeItem(at: profile)  // tens of MB; the screenshots and the log stay
    }
    do {
        let result = try await body(session)
        await finish()
        return result
    } catch {
        await finish()
        throw error
    }
}

/// One `chromedriver` process and the browsers it starts.
final class ChromeDriver {
    let process: Process
    let base: String

    private init(process: Process, base: String) {
        self.process = process
        self.base = base
    }

    static func start(log: URL, executable: String = "/usr/bin/chromedriver") async throws -> ChromeDriver {
        let port = try freeLocalPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--port=\(port)"]
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let driver = ChromeDriver(process: process, base: "http://127.0.0.1:\(port)")
        do {
            try await driver.waitUntilReady()
        } catch {
            driver.stop()
            let said = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw WebDriverError(error: "chromedriver did not start", message: "\(error); its log: \(said)")
        }
        return driver
    }

    /// Polls `/status` for up to 20 s: the driver listens some time after the process starts.
    private func waitUntilReady() async throws {
        var lastError: (any Error)?
        for _ in 0..<200 {
            guard process.isRunning else { throw WebDriverError(error: "exited", message: "status \(process.terminationStatus)") }
            do {
                let status = try await WebDriverHTTP.send(.GET, "\(base)/status", nil) as? [String: Any]
                if status?["ready"] as? Bool == true { return }
            } catch {
                lastError = error
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw lastError ?? WebDriverError(error: "not ready", message: "\(base)/status never said ready")
    }

    func newSession(profile: URL) async throws -> WebDriverSession {
        let options: [String: Any] = [
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1600", "--user-data-dir=\(profile.path)"],
        ]
        let capabilities: [String: Any] = ["alwaysMatch": [
            "browserName": "chrome", "goog:chromeOptions": options, "goog:loggingPrefs": ["browser": "ALL"],
        ]]
        let value = try await WebDriverHTTP.send(.POST, "\(base)/session", ["capabilities": capabilities]) as? [String: Any]
        guard let id = value?["sessionId"] as? String else {
            throw WebDriverError(error: "no session", message: String(describing: value))
        }
        return WebDriverSession(base: base, id: id)
    }

    /// Stops the driver (SIGTERM, then SIGKILL after 5 s) and then kills whatever it started
    /// that is still alive: a browser whose session could not be deleted would otherwise
    /// outlive the test. Only descendants of this driver's own pid are touched.
    func stop() {
        let descendants = Self.descendants(of: process.processIdentifier)
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning, Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        for pid in descendants where kill(pid, 0) == 0 {
            kill(pid, SIGKILL)
        }
    }

    /// Every process below `root`, read from /proc (parent pid is field 4 of /proc/PID/stat,
    /// after the command name in parentheses).
    static func descendants(of root: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var parents: [pid_t: pid_t] = [:]
        for entry in entries {
            guard let pid = pid_t(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { parents[pid] = parent }
        }
        var found: [pid_t] = []
        var frontier = [root]
        while let next = frontier.popLast() {
            let children = parents.filter { $0.value == next }.map(\.key)
            found += children
            frontier += children
        }
        return found
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's pick for port 0).
/// Another process could take it before the caller binds it; on one test machine that race
/// is rare enough.
func freeLocalPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
            bind(fd, generic, length) == 0 && getsockname(fd, generic, &length) == 0
        }
    }
    guard bound else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    return Int(UInt16(bigEndian: address.sin_port))
}
