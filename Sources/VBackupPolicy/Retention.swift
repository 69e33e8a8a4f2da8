import Foundation

/// A point as retention sees it: nothing but its identity, time, protection and immutability.
public struct RetentionCandidate: Hashable, Sendable {
    public var id: String
    public var createdAt: Date
    public var isProtected: Bool
    /// Until when the storage's object lock keeps the point (an immutable point); nil if never.
    public var immutableUntil: Date?

    public init(id: String, createdAt: Date, isProtected: Bool = false, immutableUntil: Date? = nil) {
        self.id = id
        self.createdAt = createdAt
        self.isProtected = isProtected
        self.immutableUntil = immutableUntil
    }
}

/// What retention decided for one point.
public enum RetentionDecision: Hashable, Sendable {
    /// Kept as the newest point of one of `rule`'s periods.
    case keep(RetentionRule)
    /// Removed. `supersededBy` is the rule that kept a newer point of the same period; nil when
    /// every rule had kept its count before reaching this point.
    case remove(supersededBy: RetentionRule?)
    /// Protected: never removed, and it takes no rule's slot.
    case protected
    /// No rule keeps it, but it is immutable (object lock) until this date: kept until then.
    case immutable(until: Date)

    public var removes: Bool {
        if case .remove = self { return true }
        return false
    }
}

/// The decision for every point of one VM, newest first.
public struct RetentionPlan: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var point: RetentionCandidate
        public var decision: RetentionDecision
    }

    public var entries: [Entry]

    public var kept: [Entry] { entries.filter { if case .keep = $0.decision { return true } else { return false } } }
    public var removed: [Entry] { entries.filter(\.decision.removes) }
    public var protected: [Entry] { entries.filter { $0.decision == .protected } }
    public var immutable: [Entry] { entries.filter { if case .immutable = $0.decision { return true } else { return false } } }

    public func decision(for id: String) -> RetentionDecision? {
        entries.first { $0.point.id == id }?.decision
    }
}

public enum RetentionError: Error, Equatable, CustomStringConvertible {
    case noKeepOptions
    case negativeCount(RetentionRule, Int)

    public var description: String {
        switch self {
        case .noKeepOptions: return "no keep options: refusing to prune everything"
        case .negativeCount(let rule, let value): return "\(rule.key) must be a non-negative integer, not \(value)"
        }
    }
}

/// Retention planning: a pure function of the points, the rules and the time zone, with
/// Proxmox Backup Server's semantics (`pbs-datastore/src/prune.rs`).
///
/// Points are taken newest first. The rules run in the order last, hourly, daily, weekly,
/// monthly, yearly. Each rule walks the points newest to oldest, skipping points an earlier rule
/// already decided and periods in which an earlier rule already kept a point; it keeps the
/// newest point of each new period until it has kept its count, and marks the older points of a
/// period it kept for removal. Protected points are never removed and fill no period. Points no
/// rule reached are removed. Periods are calendar hours, days, ISO 8601 weeks, months and years
/// in `timeZone`; `last` counts points.
///
/// Immutable points (still under object lock at `now`) count toward the rules like any other
/// point: the rules decide as usual, and one they would remove is kept as `.immutable` until
/// its date. So a store keeps the union of what the rules and the lock ask for, not their sum.
public enum Retention {
    public static func plan(
        _ points: [RetentionCandidate], rules: RetentionRules, timeZone: TimeZone, now: Date = Date()
    ) throws -> RetentionPlan {
        try rules.validate()
        guard rules.keepsSomething else { throw RetentionError.noKeepOptions }
        let newestFirst = points.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        let periods = PeriodKeys(timeZone: timeZone)
        var decisions: [String: RetentionDecision] = [:]
        for rule in RetentionRule.allCases {
            guard let count = rules[rule], count > 0 else { continue }
            select(rule, count: count, in: newestFirst, period: { periods.key(rule, $0) }, decisions: &decisions)
        }
        return RetentionPlan(entries: newestFirst.map { point in
            var decision = point.isProtected ? .protected : decisions[point.id] ?? .remove(supersededBy: nil)
            if decision.removes, let until = point.immutableUntil, until > now { decision = .immutable(until: until) }
            return RetentionPlan.Entry(point: point, decision: decision)
        })
    }

    /// One rule's walk (PBS's `mark_selections`).
    private static func select(
        _ rule: RetentionRule, count: Int, in newestFirst: [RetentionCandidate],
        period: (RetentionCandidate) -> PeriodKeys.Key, decisions: inout [String: RetentionDecision]
    ) {
        var coveredEarlier = Set<PeriodKeys.Key>()
        for point in newestFirst {
            if case .keep = decisions[point.id] { coveredEarlier.insert(period(point)) }
        }
        var selected = Set<PeriodKeys.Key>()
        for point in newestFirst where decisions[point.id] == nil {
            if point.isProtected {
                decisions[point.id] = .protected
                continue
            }
            let key = period(point)
            if coveredEarlier.contains(key) { continue }
            if selected.contains(key) {
                decisions[point.id] = .remove(supersededBy: rule)
            } else {
                if selected.count >= count { break }
                selected.insert(key)
                decisions[point.id] = .keep(rule)
            }
        }
    }
}

/// The period (bucket) of a point under each rule.
struct PeriodKeys {
    enum Key: Hashable {
        case point(String)
        case calendar([Int])
    }

    private let calendar: Calendar
    private let isoCalendar: Calendar

    init(timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
        // ISO 8601 weeks: Monday first, week 1 holds the year's first Thursday.
        var iso = calendar
        iso.firstWeekday = 2
        iso.minimumDaysInFirstWeek = 4
        isoCalendar = iso
    }

    func key(_ rule: RetentionRule, _ point: RetentionCandidate) -> Key {
        let date = point.createdAt
        switch rule {
        case .last:
            return .point(point.id)
        case .weekly:
            let c = isoCalendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
            return .calendar([c.yearForWeekOfYear!, c.weekOfYear!])
        case .hourly, .daily, .monthly, .yearly:
            let c = calendar.dateComponents([.year, .month, .day, .hour], from: date)
            let all = [c.year!, c.month!, c.day!, c.hour!]
            let length = rule == .hourly ? 4 : rule == .daily ? 3 : rule == .monthly ? 2 : 1
            return .calendar(Array(all.prefix(length)))
        }
    }
}
