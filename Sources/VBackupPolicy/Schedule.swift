import Foundation

/// One entry of a policy's `schedule:` list: when the agent starts the policy's jobs by itself.
///
/// At each fire time of `calendar` (in `timeZone`) every VM of the policy is due. Each VM's job
/// starts at the fire time plus its `jitterOffset(vmUUID:)`, so 200 VMs do not hit the store in
/// the same second, and must start and finish inside `[fire, fire + window)`.
public struct Schedule: Hashable, Sendable, CustomStringConvertible {
    public enum Mode: String, Hashable, Sendable, CaseIterable {
        /// Read only the blocks changed since the last point; a full read only when there is
        /// no usable base (first backup, lost bitmap).
        case incremental
        /// Read every disk in full (a weekly full, say), whatever the bitmaps hold.
        case full
    }

    public static let defaultWindow: TimeInterval = 6 * 3_600
    public static let maxDefaultJitter: TimeInterval = 30 * 60

    public var calendar: CalendarSpec
    public var timeZone: TimeZone
    /// Whether `timeZone` is the host's, because the file names none (for explanations).
    public var isHostTimeZone: Bool
    public var window: TimeInterval
    /// In `[0, window)`.
    public var jitter: TimeInterval
    public var mode: Mode
    /// The policy's name and this entry's index in its list: with the VM's UUID they seed the
    /// jitter, so every schedule spreads its VMs differently.
    public var policyName: String
    public var index: Int

    public init(
        calendar: CalendarSpec, timeZone: TimeZone, isHostTimeZone: Bool = false,
        window: TimeInterval = Schedule.defaultWindow, jitter: TimeInterval? = nil,
        mode: Mode = .incremental, policyName: String, index: Int
    ) {
        self.calendar = calendar
        self.timeZone = timeZone
        self.isHostTimeZone = isHostTimeZone
        self.window = window
        self.jitter = jitter ?? Self.defaultJitter(window: window)
        self.mode = mode
        self.policyName = policyName
        self.index = index
    }

    /// A quarter of the window, at most 30 minutes: enough to spread starts, little enough to
    /// leave most of the window for the work.
    public static func defaultJitter(window: TimeInterval) -> TimeInterval {
        min(window / 4, maxDefaultJitter)
    }

    /// The first fire time strictly after `date`.
    public func next(after date: Date) -> Date? {
        calendar.next(after: date, in: timeZone)
    }

    /// The next `count` fire times after `date` (fewer if the calendar runs out).
    public func fireTimes(after date: Date, count: Int) -> [Date] {
        var times: [Date] = []
        var from = date
        while times.count < count, let time = next(after: from) {
            times.append(time)
            from = time
        }
        return times
    }

    /// The latest fire time ≤ `now` whose window is still open (`now < fire + window`), or nil.
    /// The agent uses it after a restart or a sleep to run what it missed while there is still
    /// time. Fire times fall on whole seconds, so a binary search over `next(after:)` finds it
    /// in about log2(window) evaluations, however dense the calendar.
    public func occurrence(atOrBefore now: Date) -> Date? {
        let fires = { (after: Date) in self.next(after: after).map { $0 <= now } ?? false }
        var low = now.addingTimeInterval(-window)  // the first fire after `low` is ≤ now
        guard fires(low) else { return nil }
        var high = now  // the first fire after `high` is later than now
        while high.timeIntervalSince(low) > 0.5 {
            let middle = low.addingTimeInterval(high.timeIntervalSince(low) / 2)
            if fires(middle) { low = middle } else { high = middle }
        }
        return next(after: low)
    }

    /// How long after a fire time this VM's job starts: in `[0, jitter)`, the same on every
    /// host and run, from a stable hash of (policy name, schedule index, VM UUID). Swift's
    /// `hashValue` is seeded per process, so it is not used.
    public func jitterOffset(vmUUID: String) -> TimeInterval {
        let milliseconds = UInt64((jitter * 1_000).rounded(.down))
        guard milliseconds > 0 else { return 0 }
        let hash = StableHash.of("\(policyName)\u{0}\(index)\u{0}\(vmUUID.lowercased())")
        let fraction = Double(hash >> 11) / Double(UInt64(1) << 53)  // uniform in [0, 1)
        return TimeInterval(UInt64(fraction * Double(milliseconds))) / 1_000
    }

    /// When this VM's job starts for the run that fired at `fire`.
    public func start(fire: Date, vmUUID: String) -> Date {
        fire.addingTimeInterval(jitterOffset(vmUUID: vmUUID))
    }

    /// "every day at 01:00 Europe/Paris".
    public var description: String {
        "\(calendar) \(timeZone.identifier)"
    }
}

/// FNV-1a (64 bit) with a SplitMix64 finish, so inputs that differ only in their last bytes
/// still land far apart.
enum StableHash {
    static func of(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 30
        hash = hash &* 0xbf58_476d_1ce4_e5b9
        hash ^= hash >> 27
        hash = hash &* 0x94d0_49bb_1331_11eb
        return hash ^ (hash >> 31)
    }
}
