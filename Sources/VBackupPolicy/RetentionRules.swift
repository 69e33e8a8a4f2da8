/// One keep rule of a retention policy. The order of the cases is the order in which rules are
/// applied (Proxmox Backup Server's order): last, hourly, daily, weekly, monthly, yearly.
public enum RetentionRule: String, CaseIterable, Codable, Comparable, Sendable {
    case last, hourly, daily, weekly, monthly, yearly

    /// The policy-file key and CLI flag name: `keep-last`, `keep-daily`, ...
    public var key: String { "keep-\(rawValue)" }

    /// The period a kept point stands for, in words ("day", "ISO week").
    public var period: String {
        switch self {
        case .last: return "point"
        case .hourly: return "hour"
        case .daily: return "day"
        case .weekly: return "ISO week"
        case .monthly: return "month"
        case .yearly: return "year"
        }
    }

    public static func < (lhs: RetentionRule, rhs: RetentionRule) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// How many points each rule keeps (GFS: grandfather-father-son). Unset and zero both mean the
/// rule keeps nothing. Keys in files and JSON are kebab-case (`keep-last`), and decoding rejects
/// unknown keys and negative numbers, so a typo never silently disables a rule.
public struct RetentionRules: Codable, Hashable, Sendable {
    public var keepLast: Int?
    public var keepHourly: Int?
    public var keepDaily: Int?
    public var keepWeekly: Int?
    public var keepMonthly: Int?
    public var keepYearly: Int?

    public init(
        keepLast: Int? = nil, keepHourly: Int? = nil, keepDaily: Int? = nil,
        keepWeekly: Int? = nil, keepMonthly: Int? = nil, keepYearly: Int? = nil
    ) {
        self.keepLast = keepLast
        self.keepHourly = keepHourly
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
        self.keepYearly = keepYearly
    }

    public subscript(rule: RetentionRule) -> Int? {
        get {
            switch rule {
            case .last: return keepLast
            case .hourly: return keepHourly
            case .daily: return keepDaily
            case .weekly: return keepWeekly
            case .monthly: return keepMonthly
            case .yearly: return keepYearly
            }
        }
        set {
            switch rule {
            case .last: keepLast = newValue
            case .hourly: keepHourly = newValue
            case .daily: keepDaily = newValue
            case .weekly: keepWeekly = newValue
            case .monthly: keepMonthly = newValue
            case .yearly: keepYearly = newValue
            }
        }
    }

    /// Whether any rule keeps at least one point; pruning with none would remove everything.
    public var keepsSomething: Bool {
        RetentionRule.allCases.contains { (self[$0] ?? 0) > 0 }
    }

    /// These rules with every rule that `overrides` sets replaced by its value (CLI flags over a
    /// policy file, rule by rule).
    public func overridden(by overrides: RetentionRules) -> RetentionRules {
        var result = self
        for rule in RetentionRule.allCases {
            if let value = overrides[rule] { result[rule] = value }
        }
        return result
    }

    /// Throws for a negative count.
    public func validate() throws {
        for rule in RetentionRule.allCases {
            if let value = self[rule], value < 0 { throw RetentionError.negativeCount(rule, value) }
        }
    }

    /// The set rules as `keep-daily 7, keep-weekly 4`, for messages.
    public var summary: String {
        let set = RetentionRule.allCases.compactMap { rule in self[rule].map { "\(rule.key) \($0)" } }
        return set.isEmpty ? "no keep options" : set.joined(separator: ", ")
    }

    // MARK: - Codable

    enum CodingKeys: String, CodingKey, CaseIterable {
        case keepLast = "keep-last"
        case keepHourly = "keep-hourly"
        case keepDaily = "keep-daily"
        case keepWeekly = "keep-weekly"
        case keepMonthly = "keep-monthly"
        case keepYearly = "keep-yearly"
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int? {
            guard let value = try container.decodeIfPresent(Int.self, forKey: key) else { return nil }
            guard value >= 0 else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container, debugDescription: "must be a non-negative integer, not \(value)")
            }
            return value
        }
        keepLast = try count(.keepLast)
        keepHourly = try count(.keepHourly)
        keepDaily = try count(.keepDaily)
        keepWeekly = try count(.keepWeekly)
        keepMonthly = try count(.keepMonthly)
        keepYearly = try count(.keepYearly)
    }
}

/// Rejects keys a type does not know, naming the first unknown one (sorted, so the message is
/// stable) and listing the known ones.
enum StrictKeys {
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func check(_ decoder: any Decoder, allowed: [String]) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let unknown = container.allKeys.filter { !allowed.contains($0.stringValue) }
        guard let first = unknown.min(by: { $0.stringValue < $1.stringValue }) else { return }
        throw DecodingError.dataCorrupted(DecodingError.Context(
            codingPath: container.codingPath + [first],
            debugDescription: "unknown key '\(first.stringValue)' (known: \(allowed.joined(separator: ", ")))"))
    }
}
