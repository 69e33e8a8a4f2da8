import AsyncHTTPClient
import Foundation
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A minimal W3C WebDriver client (https://www.w3.org/TR/webdriver2/) for driving Debian's
/// headless Chromium through `chromedriver` in tests: plain HTTP+JSON, only the commands the
/// dashboard tests use. `withChromium` owns the driver process, so the browser and the driver
/// are gone when it returns, whether the test body passed, failed or threw.
struct WebDriverSession: Sendable {
    let base: String
    let id: String

    struct Element: Sendable {
        let session: WebDriverSession
        let id: String

        func click() async throws {
            _ = try await session.command(.POST, "element/\(id)/click", [:])
        }

        func sendKeys(_ text: String) async throws {
            _ = try await session.command(.POST, "element/\(id)/value", ["text": text])
        }

        /// The rendered text, as a reader sees it (hidden elements give "").
        func text() async throws -> String {
            try await session.command(.GET, "element/\(id)/text") as? String ?? ""
        }

        func attribute(_ name: String) async throws -> String? {
            try await session.command(.GET, "element/\(id)/attribute/\(name)") as? String
        }
    }

    func navigate(to url: String) async throws {
        _ = try await command(.POST, "url", ["url": url])
    }

    func currentURL() async throws -> String {
        try await command(.GET, "url") as? String ?? ""
    }

    func title() async throws -> String {
        try await command(.GET, "title") as? String ?? ""
    }

    func pageSource() async throws -> String {
        try await command(.GET, "source") as? String ?? ""
    }

    /// Polls `condition` every 100 ms until it holds or `seconds` pass; whether it held. A
    /// click that submits a form returns before the next page has loaded, so a test waits for
    /// the page it expects instead of sleeping.
    @discardableResult
    func waitUntil(seconds: Double = 10, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if (try? await condition()) == true { return true }
            if Date() >= deadline { return false }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The first element matching a CSS selector; throws `WebDriverError` "no such element".
    func element(_ css: String) async throws -> Element {
        try Element(session: self, id: Self.elementID(await command(.POST, "element", ["using": "css selector", "value": css])))
    }

    func elements(_ css: String) async throws -> [Element] {
        let found = try await command(.POST, "elements", ["using": "css selector", "value": css]) as? [Any] ?? []
        return try found.map { try Element(session: self, id: Self.elementID($0)) }
    }

    /// A PNG of the viewport, written to `file`.
    func screenshot(to file: URL) async throws {
        guard let base64 = try await command(.GET, "screenshot") as? String, let png = Data(base64Encoded: base64) else {
            throw WebDriverError(error: "bad screenshot", message: "no base64 PNG in the answer")
        }
        try png.write(to: file)
    }

    /// Sets the window size so screenshots show a whole desktop-sized page.
    func setWindow(width: Int, height: Int) async throws {
        _ = try await command(.POST, "window/rect", ["width": width, "height": height])
    }

    /// The browser console's entries since the last call (chromedriver's log endpoint, outside
    /// the W3C standard): a Content Security Policy violation shows up here as a SEVERE entry.
    func browserLog() async throws -> [(level: String, message: String)] {
        let entries = try await command(.POST, "se/log", ["type": "browser"]) as? [[String: Any]] ?? []
        return entries.map { ($0["level"] as? String ?? "", $0["message"] as? String ?? "") }
    }

    func delete() async throws {
        _ = try await WebDriverHTTP.send(.DELETE, "\(base)/session/\(id)", nil)
    }

    /// The W3C element reference key, a constant of the standard.
    private static func elementID(_ value: Any?) throws -> String {
        guard let reference = value as? [String: Any], let id = reference["element-6066-11e4-a52e-4f735466cecf"] as? String else {
            throw WebDriverError(error: "bad element", message: "no element reference in \(String(describing: value))")
        }
        return id
    }

    func command(_ method: WebDriverHTTP.Method, _ path: String, _ body: [String: Any]? = nil) async throws -> Any? {
        try await WebDriverHTTP.send(method, "\(base)/session/\(id)/\(path)", body)
    }
}

/// An error the driver answered with (`{"value": {"error": …, "message": …}}`).
struct WebDriverError: Error, CustomStringConvertible {
    var error: String
    var message: String
    var description: String { "WebDriver \(error): \(message)" }
}

enum WebDriverHTTP {
    /// The methods WebDriver commands use.
    enum Method: Sendable {
        case GET, POST, DELETE
    }

    /// Sends one command and returns the answer's `value`, or throws the driver's error.
    static func send(_ method: Method, _ url: String, _ body: [String: Any]?) async throws -> Any? {
        var request = HTTPClientRequest(url: url)
        switch method {
        case .GET: request.method = .GET
        case .POST: request.method = .POST
        case .DELETE: request.method = .DELETE
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
        let json = try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView), options: [.fragmentsAllowed])
        let value = (json as? [String: Any])?["value"]
        if response.status.code >= 400 || (value as? [String: Any])?["error"] != nil {
            let failure = value as? [String: Any]
            throw WebDriverError(error: failure?["error"] as? String ?? "HTTP \(response.status.code)",
                                 message: failure?["message"] as? String ?? "")
        }
        return value is NSNull ? nil : value
    }
}
