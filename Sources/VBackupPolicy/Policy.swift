import Foundation

/// One policy file of format 1 (the reference is `policies/README.md`): which VMs it covers,
/// when the agent backs them up, how long points are kept, where they go and how hard the jobs
/// may push the host, and when its VMs' points are drilled. Read with `Policy.load(path:)` or,
/// for a folder, `PolicySet.load(directory:)`.
///
/// The parser (`PolicyParser`) walks the YAML node tree itself instead of decoding, so one run
/// reports every error in a file, each with its line.
public struct Policy: Hashable, Sendable {
    /// The format this build reads; a file must say `version: 1`.
    public static let formatVersion = 1
    public static let defaultPriority = 50

    public enum Encryption: String, Hashable, Sendable, CaseIterable {
        /// Back up into whatever store is configured.
        case any
        /// Refuse to back up into a store without encryption.
        case required
        /// Back up only into a plain store (`encryption: none`).
        case unencrypted = "none"
    }

    /// Unique across the policy folder.
    public var name: String
    /// 0...100; when several policies select a VM the highest wins, and when jobs queue the
    /// highest runs first.
    public var priority: Int
    public var selection: VMSelection
    /// Empty: the agent never starts this policy by itself.
    public var schedules: [Schedule]
    public var retention: RetentionRules
    /// A store path or URL; nil = the agent's default store.
    public var store: String?
    public var encryption: Encryption
    public var throttle: Throttle
    /// When and how the agent drills the policy's VMs; nil: never.
    public var drill: DrillPolicy?
    /// How long each point its jobs write is immutable (S3 Object Lock); nil: ordinary points.
    public var immutableFor: TimeInterval?
    /// When and where the agent copies the policy's points (an off-site copy); nil: never.
    public var copy: CopyPolicy? = nil
    /// The file the policy was read from ("" when built in code).
    public var file: String
    /// The line of `name:` in `file`, for errors that point at the policy as a whole.
    public var nameLine: Int?

    public init(
        name: String, priority: Int = Policy.defaultPriority, selection: VMSelection = VMSelection(),
        schedules: [Schedule] = [], retention: RetentionRules = RetentionRules(), store: String? = nil,
        encryption: Encryption = .any, throttle: Throttle = Throttle(), drill: DrillPolicy? = nil, file: String = "",
        nameLine: Int? = nil
    ) {
        self.name = name
        self.priority = priority
        self.selection = selection
        self.schedules = schedules
        self.retention = retention
        self.store = store
        self.encryption = encryption
        self.throttle = throttle
        self.drill = drill
        self.file = file
        self.nameLine = nameLine
    }

    public func selects(_ vm: VMFacts) -> Bool {
        selection.selects(vm)
    }

    /// The per-job bandwidth cap at `date` (time-of-day limits applied) in bytes per second;
    /// nil = unlimited.
    public func jobBandwidth(at date: Date) -> UInt64? {
        throttle.setting(\.jobBandwidth, \.jobBandwidth, at: date)?.value.limit
    }

    // MARK: - Reading

    /// Reads and checks a policy file. Throws `PolicyFileErrors` listing every problem found.
    public static func load(path: String, hostTimeZone: TimeZone = .current) throws -> Policy {
        let result = read(path: path, hostTimeZone: hostTimeZone)
        guard let policy = result.policy, result.errors.isEmpty else { throw PolicyFileErrors(result.errors) }
        return policy
    }

    /// Parses the text of a policy file; `file` names it in errors. Throws `PolicyFileErrors`.
    public static func parse(_ text: String, file: String, hostTimeZone: TimeZone = .current) throws -> Policy {
        let result = read(text, file: file, hostTimeZone: hostTimeZone)
        guard let policy = result.policy, result.errors.isEmpty else { throw PolicyFileErrors(result.errors) }
        return policy
    }

    /// Reads a policy file without throwing: the policy when it is valid (`errors` empty), and
    /// every error found. Time zones the file leaves out are `hostTimeZone`.
    public static func read(path: String, hostTimeZone: TimeZone = .current) -> (policy: Policy?, errors: [PolicyFileError]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            return (nil, [PolicyFileError(file: path, line: nil, message: reason)])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return (nil, [PolicyFileError(file: path, line: nil, message: "is not UTF-8 text")])
        }
        return read(text, file: path, hostTimeZone: hostTimeZone)
    }

    /// `read(path:)` for text in hand.
    public static func read(_ text: String, file: String, hostTimeZone: TimeZone = .current) -> (policy: Policy?, errors: [PolicyFileError]) {
        var parser = PolicyParser(file: file, hostTimeZone: hostTimeZone)
        let policy = parser.parse(text)
        // In file order, as people fix them; errors found in one place keep their order.
        let errors = parser.reader.errors.enumerated()
            .sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }.map(\.element)
        return (errors.isEmpty ? policy : nil, errors)
    }
}

extension Throttle {
    /// A setting that a time-of-day limit may override (`base` here, `override` in the limit),
    /// as it stands at `date`: the first matching limit's value if it sets one, else the base
    /// value. `limit` is the limit that set it (nil for the base value).
    func setting<Value>(
        _ base: KeyPath<Throttle, Value?>, _ override: KeyPath<TimeLimit, Value?>, at date: Date
    ) -> (value: Value, limit: TimeLimit?)? {
        if let index = activeLimit(at: date), let value = limits[index][keyPath: override] {
            return (value, limits[index])
        }
        return self[keyPath: base].map { ($0, nil) }
    }
}
