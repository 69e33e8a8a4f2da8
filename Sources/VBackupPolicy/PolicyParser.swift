import Foundation
import Yams

/// Turns the text of a policy file into a `Policy`, recording every error in `reader`. The
/// result is only meaningful when `reader.errors` is empty; with errors it is whatever could be
/// read, and `Policy.read` drops it.
struct PolicyParser {
    var reader: PolicyReader
    let hostTimeZone: TimeZone

    init(file: String, hostTimeZone: TimeZone) {
        reader = PolicyReader(file: file)
        self.hostTimeZone = hostTimeZone
    }

    static let topKeys = [
        "version", "name", "priority", "select", "schedule", "retention", "store", "encryption", "throttle", "drill",
        "immutable",
        "copy",
    ]
    /// Keys of the format before versions, with where they went.
    static let movedKeys = ["vms": "format 1 moved it to select: vms:"]

    mutating func parse(_ text: String) -> Policy? {
        guard let root = compose(text) else { return nil }
        // A file of another format is read no further: its keys would only add confusing errors.
        if case .mapping = root, let version = root["version"], !checkVersion(version) { return nil }
        guard let top = reader.fields(
            root, path: "", known: Self.topKeys, required: ["version", "name"], hints: Self.movedKeys) else { return nil }
        let name = reader.value(top["name"], "name", expected: "the policy's name", Self.name)
        var policy = Policy(name: name ?? "", file: reader.file, nameLine: top.keyLine("name"))
        policy.priority = reader.integer(top["priority"], "priority", in: 0...100, expected: "a whole number from 0 to 100")
            ?? Policy.defaultPriority
        policy.selection = top["select"].flatMap { selection($0) } ?? VMSelection()
        policy.schedules = top["schedule"].map { schedules($0, policyName: policy.name) } ?? []
        policy.retention = top["retention"].flatMap { retention($0) } ?? RetentionRules()
        policy.store = reader.value(top["store"], "store", expected: "a store path or URL") { $0 }
        policy.encryption = reader.value(top["encryption"], "encryption", expected: "any, required or none") {
            (text: String) throws(PolicyValueError) in
            guard let value = Policy.Encryption(rawValue: text) else {
                throw PolicyValueError("'\(text)' is not one of any, required, none")
            }
            return value
        } ?? .any
        policy.throttle = top["throttle"].flatMap { throttle($0) } ?? Throttle()
        policy.drill = top["drill"].flatMap { drill($0, policyName: policy.name) }
        policy.immutableFor = top["immutable"].flatMap { immutable($0) }
        policy.copy = top["copy"].flatMap { copy($0, policy: policy) }
        return policy
    }

    /// The document's root node; nil (after an error) for invalid YAML or an empty file.
    private mutating func compose(_ text: String) -> Node? {
        do {
            guard let root = try Yams.compose(yaml: text) else {
                reader.report(line: nil, "", "is empty (a policy needs at least 'version: 1' and 'name:')")
                return nil
            }
            return root
        } catch let error as YamlError {
            reader.record(PolicyFileError(file: reader.file, yamlError: error))
        } catch {
            reader.report(line: nil, "", "invalid YAML: \(error)")
        }
        return nil
    }

    private mutating func checkVersion(_ node: Node) -> Bool {
        guard let text = reader.text(node, "version", expected: "the format version, 1") else { return false }
        guard text == "\(Policy.formatVersion)" else {
            reader.report(node, "version", "this vbackup reads policy format \(Policy.formatVersion), not '\(text)'")
            return false
        }
        return true
    }

    /// Names show up in status, logs and metrics and seed the jitter, so they stay plain.
    static func name(_ text: String) throws(PolicyValueError) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
        guard !text.isEmpty, text.count <= 64, text.unicodeScalars.allSatisfy(allowed.contains) else {
            throw PolicyValueError("'\(text)' must be 1 to 64 letters, digits, '.', '_' or '-'")
        }
        return text
    }

    private mutating func selection(_ node: Node) -> VMSelection? {
        guard let fields = reader.fields(node, path: "select", known: ["vms", "tags", "hosts", "exclude"]) else { return nil }
        let pattern = { (text: String) throws(PolicyValueError) in try VMPattern(text) }
        return VMSelection(
            vms: reader.list(fields["vms"], "select.vms", ifEmpty: "names no VM (leave it out to select every VM)", pattern),
            tags: reader.list(fields["tags"], "select.tags", ifEmpty: "names no tag (leave it out to ignore tags)") { $0 },
            hosts: reader.list(fields["hosts"], "select.hosts", ifEmpty: "names no host (leave it out for every host)") {
                (text: String) throws(PolicyValueError) in try Glob(text)
            },
            exclude: reader.list(fields["exclude"], "select.exclude", ifEmpty: "names no VM (leave it out to exclude none)", pattern) ?? [])
    }

    private mutating func schedules(_ node: Node, policyName: String) -> [Schedule] {
        guard let items = reader.items(
            node, "schedule", expected: "a list of schedules (- calendar: ...)",
            ifEmpty: "lists no schedule (leave it out if the agent should never start this policy by itself)") else { return [] }
        return items.enumerated().compactMap { schedule($1, index: $0, policyName: policyName) }
    }

    private mutating func schedule(_ node: Node, index: Int, policyName: String) -> Schedule? {
        let keys = Self.timingKeys + ["mode"]
        guard let fields = reader.fields(node, path: "schedule[\(index)]", known: keys, required: ["calendar"]) else { return nil }
        let timing = timing(fields)
        let mode = reader.value(fields["mode"], fields.path("mode"), expected: "incremental or full") {
            (text: String) throws(PolicyValueError) in
            guard let mode = Schedule.Mode(rawValue: text) else { throw PolicyValueError("'\(text)' is not incremental or full") }
            return mode
        } ?? .incremental
        return timing.map { $0.schedule(mode: mode, policyName: policyName, index: index) }
    }

    static let timingKeys = ["calendar", "timezone", "window", "jitter"]

    /// When something fires: a calendar in a zone, with a window and a jitter. A `schedule:`
    /// entry and the `drill:` section share these keys and their rules.
    struct Timing {
        var calendar: CalendarSpec
        var zone: (zone: TimeZone, name: String)?
        var hostTimeZone: TimeZone
        var window: TimeInterval
        var jitter: TimeInterval?

        func schedule(mode: Schedule.Mode, policyName: String, index: Int) -> Schedule {
            Schedule(calendar: calendar, timeZone: zone?.zone ?? hostTimeZone, isHostTimeZone: zone == nil,
                     window: window, jitter: jitter, mode: mode, policyName: policyName, index: index)
        }
    }

    /// The timing keys of `fields`; nil when the calendar is missing or wrong (the other keys
    /// are still checked, so every error is reported).
    mutating func timing(_ fields: Fields) -> Timing? {
        let calendar = reader.value(fields["calendar"], fields.path("calendar"), expected: "a calendar expression") {
            (text: String) throws(PolicyValueError) in try CalendarSpec(text)
        }
        let zone = timeZone(fields["timezone"], fields.path("timezone"))
        let window = reader.value(fields["window"], fields.path("window"), expected: Units.durationHelp) {
            (text: String) throws(PolicyValueError) in
            let window = try Units.duration(text)
            guard window > 0 else { throw PolicyValueError("must be longer than 0s") }
            return window
        } ?? Schedule.defaultWindow
        let jitter = reader.value(fields["jitter"], fields.path("jitter"), expected: Units.durationHelp, Units.duration)
        if let jitter, jitter >= window, let node = fields["jitter"] {
            reader.report(node, fields.path("jitter"), "\(Units.describe(duration: jitter)) is not shorter than the window "
                + "(\(Units.describe(duration: window))): every job must be able to start inside its window")
        }
        guard let calendar else { return nil }
        return Timing(calendar: calendar, zone: zone, hostTimeZone: hostTimeZone, window: window, jitter: jitter)
    }

    /// An IANA zone; nil when the key is absent (the host's zone applies) or wrong (an error).
    mutating func timeZone(_ node: Node?, _ path: String) -> (zone: TimeZone, name: String)? {
        reader.value(node, path, expected: "an IANA time zone such as Europe/Paris") { (text: String) throws(PolicyValueError) in
            guard let zone = TimeZone(identifier: text) else {
                throw PolicyValueError("'\(text)' is not an IANA time zone such as Europe/Paris, America/New_York or UTC")
            }
            return (zone, text)
        }
    }

    private mutating func retention(_ node: Node) -> RetentionRules? {
        let keys = RetentionRule.allCases.map(\.key)
        guard let fields = reader.fields(node, path: "retention", known: keys) else { return nil }
        var rules = RetentionRules()
        for rule in RetentionRule.allCases {
            rules[rule] = reader.integer(fields[rule.key], fields.path(rule.key), in: 0...Int.max, expected: "a non-negative integer")
        }
        return rules
    }
}
