import FleetAPI
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// A policy server as operators run it: a `vbackup server` process on a free loopback port
/// with its SQLite database in a test folder, and the admin CLI pointed at it through the
/// environment (`VBACKUP_SERVER`, `VBACKUP_SERVER_TOKEN_FILE`).
final class FleetLab {
    let root: URL
    let port: Int
    private(set) var process: Process?
    private var logHandle: FileHandle?

    init(root: URL) throws {
        self.root = root.appendingPathComponent("server")
        try FileManager.default.createDirectory(at: self.root, withIntermediateDirectories: true)
        port = try freeLoopbackPort()
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var database: String { "sqlite:\(root.appendingPathComponent("server.db").path)" }
    var adminTokenFile: URL { root.appendingPathComponent("admin.token") }
    var log: URL { root.appendingPathComponent("server.log") }
    var adminToken: String {
        get throws { try String(contentsOf: adminTokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// Starts the server and waits until it answers its health route.
    func start() throws {
        let (process, handle) = try startVbackup(
            ["server", "--db", database, "--listen", "127.0.0.1:\(port)", "--admin-token-file", adminTokenFile.path, "--log-level", "info"],
            log: log)
        try? logHandle?.close()
        self.process = process
        logHandle = handle
        let deadline = Date() + 30
        while Date() < deadline {
            if (try? http("GET", APIPath.health).status) == 200 { return }
            usleep(100_000)
        }
        throw AgentLabError.timeout("the server did not answer; log:\n" + ((try? String(contentsOf: log, encoding: .utf8)) ?? ""))
    }

    func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        self.process = nil
    }

    /// `vbackup ARGUMENTS` as an admin of this server.
    func admin(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runTool(vbackupBinary, arguments, environment: ["VBACKUP_SERVER": url,
                                                            "VBACKUP_SERVER_TOKEN_FILE": adminTokenFile.path])
    }

    /// `vbackup ARGUMENTS --json` as an admin, decoded.
    func adminJSON<T: Decodable>(_ arguments: [String], as type: T.Type = T.self) throws -> T {
        let result = try admin(arguments + ["--json"])
        XCTAssertEqual(result.status, 0, "vbackup \(arguments.joined(separator: " ")): \(result.err)")
        return try APIJSON.decoder().decode(T.self, from: Data(result.out.utf8))
    }

    /// A new one-time enrollment token for a host of that name.
    func enrollmentToken(host: String) throws -> String {
        try adminJSON(["hosts", "token", "--name", host], as: EnrollmentTokenCreated.self).token
    }

    /// One HTTP request to the server (status, headers, body); for what the CLI doesn't do.
    func http(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:])
        throws -> (status: Int, headers: [String: String], body: Data) {
        var request = URLRequest(url: URL(string: url + path)!)
        request.httpMethod = method
        request.httpBody = body
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, [String: String], Data)?
        nonisolated(unsafe) var failure: Error?
        let session = URLSession(configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)
        session.dataTask(with: request) { data, response, error in
            if let response = response as? HTTPURLResponse {
                let fields = response.allHeaderFields.reduce(into: [String: String]()) { $0["\($1.key)".lowercased()] = "\($1.value)" }
                result = (response.statusCode, fields, data ?? Data())
            } else {
                failure = error
            }
            done.signal()
        }.resume()
        done.wait()
        session.finishTasksAndInvalidate()
        if let result { return result }
        throw failure ?? URLError(.unknown)
    }

    func cleanup() {
        stop()
        try? logHandle?.close()
    }
}

/// The dashboard answers a login with a redirect and a cookie; the test reads both itself.
private final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on (the kernel picks it).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
            guard bind(fd, pointer, length) == 0 else { return -1 }
            return getsockname(fd, pointer, &length)
        }
    }
    guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}

extension FleetLab {
    /// GET an admin API route, decoded.
    func api<T: Decodable>(_ method: String, _ path: String, as type: T.Type = T.self) throws -> T {
        let answer = try http(method, path, headers: ["Authorization": "Bearer \(try adminToken)"])
        guard answer.status == 200 else {
            throw AgentLabError.timeout("\(method) \(path): HTTP \(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
        }
        return try APIJSON.decoder().decode(T.self, from: answer.body)
    }

    /// Signs in to the dashboard with the admin token and returns the overview page's HTML.
    func dashboard() throws -> String {
        let form = "token=" + (try adminToken).addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let login = try http("POST", "/login", body: Data(form.utf8), headers: ["Content-Type": "application/x-www-form-urlencoded"])
        XCTAssertEqual(login.status, 303, "a good token signs in and redirects")
        let cookie = try XCTUnwrap(login.headers["set-cookie"]?.split(separator: ";").first.map(String.init), "a session cookie")
        let page = try http("GET", "/", headers: ["Cookie": cookie])
        XCTAssertEqual(page.status, 200)
        return String(decoding: page.body, as: UTF8.self)
    }
}
