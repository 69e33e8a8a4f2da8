import Foundation

/// Runs a tool from PATH and returns its stdout; throws with its stderr when it exits non-zero.
@discardableResult
func shell(_ arguments: String...) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw ShellError(command: arguments.joined(separator: " "), status: process.terminationStatus,
                         stderr: String(decoding: stderr, as: UTF8.self))
    }
    return String(decoding: stdout, as: UTF8.self)
}

struct ShellError: Error, CustomStringConvertible {
    let command: String
    let status: Int32
    let stderr: String
    var description: String { "`\(command)` exited \(status): \(stderr)" }
}

/// A short random suffix, so parallel or leftover test runs never collide on names.
func randomSuffix() -> String { String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16) }

/// Polls until `path` exists (a server's socket appearing), failing after `timeout` seconds.
func waitForFile(_ path: String, timeout: Double = 10) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while !FileManager.default.fileExists(atPath: path) {
        guard Date() < deadline else { throw ShellError(command: "wait for \(path)", status: -1, stderr: "timed out") }
        usleep(20_000)
    }
}
