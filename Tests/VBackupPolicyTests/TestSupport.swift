import Foundation
import Testing
import VBackupPolicy

/// An instant written with its offset, as a person reads it: `at("2025-03-30T03:00:00+02:00")`.
func at(_ text: String) -> Date {
    guard let date = ISO8601DateFormatter().date(from: text) else { fatalError("not an ISO 8601 time: \(text)") }
    return date
}

func zone(_ identifier: String) -> TimeZone {
    guard let zone = TimeZone(identifier: identifier) else { fatalError("no time zone \(identifier)") }
    return zone
}

let paris = zone("Europe/Paris")
let newYork = zone("America/New_York")
let utc = zone("UTC")

/// A policy file's text after `version: 1` and `name: test`, parsed with UTC as the host zone.
func policy(_ body: String, name: String = "test") throws -> Policy {
    try Policy.parse("version: 1\nname: \(name)\n" + body, file: "\(name).yaml", hostTimeZone: utc)
}

/// Every error of a policy file's text, each checked to be one line naming the file.
func errors(_ text: String, file: String = "bad.yaml") -> [PolicyFileError] {
    let result = Policy.read(text, file: file, hostTimeZone: utc)
    #expect(result.policy == nil, "an invalid file yields no policy")
    for error in result.errors {
        #expect(!error.description.contains("\n"), "one line: \(error)")
        #expect(error.description.hasPrefix("policy file \(file)"), "\(error)")
    }
    return result.errors
}

/// The one error of a file, as `LINE: message` (or `-: message` without a line).
func onlyError(_ text: String) -> String? {
    let all = errors(text)
    #expect(all.count == 1, "\(all.map(\.description))")
    return all.first.map { "\($0.line.map(String.init) ?? "-"): \($0.message)" }
}

/// A schedule parsed from a calendar expression, in a zone.
func schedule(_ calendar: String, in zone: TimeZone, window: TimeInterval = 6 * 3600, jitter: TimeInterval? = nil) throws -> Schedule {
    Schedule(calendar: try CalendarSpec(calendar), timeZone: zone, window: window, jitter: jitter, policyName: "test", index: 0)
}

/// The next `count` fire times after `start`, written back in the schedule's zone.
func fires(_ calendar: String, in zone: TimeZone, after start: String, count: Int = 3) throws -> [String] {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = zone
    return try schedule(calendar, in: zone).fireTimes(after: at(start), count: count).map(formatter.string(from:))
}
