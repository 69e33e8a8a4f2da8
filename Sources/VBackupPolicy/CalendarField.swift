import Foundation

/// One field of a calendar expression (year, month, day, hour, minute or second): the values it
/// allows, kept sorted so the search can jump straight to the next one.
///
/// Written as `*`, a number `5`, a range `1..5`, a repetition `*/15` or `1/3` (start, then every
/// step up to the field's maximum) or `1..20/5`, or a comma-separated list of these.
struct CalendarField: Hashable, Sendable {
    /// The unit, for messages and descriptions ("hour").
    let unit: String
    let domain: ClosedRange<Int>
    /// Sorted, without duplicates, all inside `domain`.
    let values: [Int]
    /// As written, for descriptions.
    let text: String

    static let yearDomain = 1970...2199

    init(_ text: String, unit: String, domain: ClosedRange<Int>) throws(PolicyValueError) {
        self.unit = unit
        self.domain = domain
        self.text = text
        var allowed = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            allowed.formUnion(try Self.values(of: String(item), unit: unit, domain: domain))
        }
        values = allowed.sorted()
    }

    var isEvery: Bool { values.count == domain.count }
    var single: Int? { values.count == 1 ? values[0] : nil }

    /// The first allowed value ≥ `value`, if any.
    func next(atOrAfter value: Int) -> Int? {
        var low = 0, high = values.count
        while low < high {
            let middle = (low + high) / 2
            if values[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low < values.count ? values[low] : nil
    }

    /// When the field is one repetition over the whole domain (`*/15`, `0/15`), its step.
    var step: Int? {
        guard values.count > 1, values[0] == domain.lowerBound else { return nil }
        let step = values[1] - values[0]
        let regular = zip(values, values.dropFirst()).allSatisfy { $1 - $0 == step }
        return regular && values.last! + step > domain.upperBound ? step : nil
    }

    /// The values of one list item: `*`, `N`, `N..M`, each optionally with `/STEP`.
    private static func values(of item: String, unit: String, domain: ClosedRange<Int>) throws(PolicyValueError) -> [Int] {
        let parts = item.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw PolicyValueError("'\(item)' has more than one '/'") }
        var step = 1
        if parts.count == 2 {
            guard let value = Int(parts[1]), value > 0 else {
                throw PolicyValueError("'\(item)': the step after '/' must be a positive whole number")
            }
            step = value
        }
        let range = try Self.range(String(parts[0]), unit: unit, domain: domain, repeats: parts.count == 2)
        return Array(stride(from: range.lowerBound, through: range.upperBound, by: step))
    }

    /// `*` = the domain; `N` = N alone, or N up to the maximum when a step follows; `N..M`.
    private static func range(
        _ text: String, unit: String, domain: ClosedRange<Int>, repeats: Bool
    ) throws(PolicyValueError) -> ClosedRange<Int> {
        if text == "*" { return domain }
        let bounds = text.components(separatedBy: "..")
        guard bounds.count <= 2, let low = number(bounds[0]), let high = bounds.count == 2 ? number(bounds[1]) : low else {
            throw PolicyValueError("'\(text)' is not a \(unit): use a number, a range such as 1..5, * or */STEP")
        }
        for value in [low, high] where !domain.contains(value) {
            throw PolicyValueError("\(unit) \(value) is out of range (\(domain.lowerBound)..\(domain.upperBound))")
        }
        guard low <= high else { throw PolicyValueError("the \(unit) range \(low)..\(high) runs backwards") }
        return low...(repeats && bounds.count == 1 ? domain.upperBound : high)
    }

    private static func number(_ text: String) -> Int? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }
}

/// A set of days of the week, 1 = Monday ... 7 = Sunday, written `Mon`, `Mon..Fri`, `Sat,Sun`,
/// `Fri..Mon` (a range may wrap past Sunday). Full names and any letter case work too.
public struct DaySet: Hashable, Sendable, CustomStringConvertible {
    public let days: Set<Int>
    /// As written.
    public let text: String

    static let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    static let fullNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    init(_ text: String) throws(PolicyValueError) {
        var days = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = item.trimmingCharacters(in: .whitespaces).components(separatedBy: "..")
            guard ends.count <= 2 else { throw PolicyValueError("'\(item)' is not a day or a range of days such as Mon..Fri") }
            let first = try Self.day(ends[0]), last = try ends.count == 2 ? Self.day(ends[1]) : first
            var day = first
            while true {
                days.insert(day)
                if day == last { break }
                day = day % 7 + 1
            }
        }
        self.days = days
        self.text = text
    }

    public func contains(weekday: Int) -> Bool { days.contains(weekday) }

    /// "Monday to Friday", "Saturday and Sunday", "Monday, Wednesday and Friday".
    public var description: String {
        let sorted = days.sorted()
        if sorted.count >= 3, sorted.last! - sorted.first! == sorted.count - 1 {
            return "\(Self.fullNames[sorted.first! - 1]) to \(Self.fullNames[sorted.last! - 1])"
        }
        let words = sorted.map { Self.fullNames[$0 - 1] }
        return words.count <= 1 ? words.joined() : words.dropLast().joined(separator: ", ") + " and " + words.last!
    }

    private static func day(_ text: String) throws(PolicyValueError) -> Int {
        let word = text.lowercased()
        if let index = names.firstIndex(of: word) ?? fullNames.firstIndex(where: { $0.lowercased() == word }) {
            return index + 1
        }
        throw PolicyValueError("'\(text)' is not a day of the week (Mon, Tue, Wed, Thu, Fri, Sat, Sun)")
    }
}
