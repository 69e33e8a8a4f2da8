import Foundation
import Yams

/// The `drill:` section: a calendar with the rules of a schedule entry, and how the drill
/// checks the guest.
extension PolicyParser {
    static let drillKeys = timingKeys + ["timeout", "settle", "network", "console", "script"]

    mutating func drill(_ node: Node, policyName: String) -> DrillPolicy? {
        guard let fields = reader.fields(node, path: "drill", known: Self.drillKeys, required: ["calendar"]) else { return nil }
        let timing = timing(fields)
        let timeout = reader.value(fields["timeout"], fields.path("timeout"), expected: Units.durationHelp) {
            (text: String) throws(PolicyValueError) in
            let timeout = try Units.duration(text)
            guard timeout > 0 else { throw PolicyValueError("must be longer than 0s") }
            return timeout
        } ?? DrillPolicy.defaultTimeout
        let settle = reader.value(fields["settle"], fields.path("settle"), expected: Units.durationHelp, Units.duration)
            ?? DrillPolicy.defaultSettle
        if settle >= timeout, let node = fields["settle"] ?? fields["timeout"] {
            reader.report(node, fields.path(fields["settle"] == nil ? "timeout" : "settle"),
                          "the settle time (\(Units.describe(duration: settle))) is not shorter than the timeout "
                              + "(\(Units.describe(duration: timeout))): the guest could never pass")
        }
        let network = reader.value(fields["network"], fields.path("network"), expected: "none or isolated") {
            (text: String) throws(PolicyValueError) in
            guard let network = DrillPolicy.Network(rawValue: text) else { throw PolicyValueError("'\(text)' is not none or isolated") }
            return network
        } ?? DrillPolicy.Network.none
        let console = reader.value(fields["console"], fields.path("console"), expected: "a regular expression", Self.regularExpression)
        let script = reader.value(fields["script"], fields.path("script"), expected: "the absolute path of an executable") {
            (text: String) throws(PolicyValueError) in
            guard text.hasPrefix("/") else { throw PolicyValueError("'\(text)' must be an absolute path (the agent has no working folder)") }
            return text
        }
        guard let timing else { return nil }
        return DrillPolicy(schedule: timing.schedule(mode: .incremental, policyName: policyName, index: Schedule.drillIndex),
                           timeout: timeout, settle: settle, network: network, consolePattern: console, script: script)
    }

    /// A pattern the drill can search console lines with (ICU syntax, as NSRegularExpression
    /// reads it). An empty one would match every line, so it is refused.
    static func regularExpression(_ text: String) throws(PolicyValueError) -> String {
        guard !text.isEmpty else { throw PolicyValueError("is empty (leave it out to skip the console check)") }
        do {
            _ = try NSRegularExpression(pattern: text)
        } catch {
            throw PolicyValueError("'\(text)' is not a valid regular expression")
        }
        return text
    }
}
