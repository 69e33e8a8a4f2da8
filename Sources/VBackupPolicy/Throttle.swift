import Foundation

/// A policy's `throttle:` section: how hard its jobs may push the host. Every setting is
/// optional; unset means the policy adds no constraint (the host-wide value then comes from
/// other policies or the defaults, see `HostLimits`).
public struct Throttle: Hashable, Sendable {
    /// Per job.
    public var jobBandwidth: Bandwidth?
    /// Host-wide, shared fairly by the running jobs.
    public var hostBandwidth: Bandwidth?
    /// Host-wide, ≥ 1.
    public var maxConcurrentJobs: Int?
    /// Cap on the agent's CPU in percent of one core (150 = one and a half cores), 1...10000.
    public var cpuPercent: Double?
    /// cgroup v2 `cpu.weight`, 1...10000 (the kernel's default is 100).
    public var cpuWeight: Int?
    /// Time-of-day overrides; the first that matches applies.
    public var limits: [TimeLimit]
    public var adaptive: Adaptive

    public init(
        jobBandwidth: Bandwidth? = nil, hostBandwidth: Bandwidth? = nil, maxConcurrentJobs: Int? = nil,
        cpuPercent: Double? = nil, cpuWeight: Int? = nil, limits: [TimeLimit] = [], adaptive: Adaptive = Adaptive()
    ) {
        self.jobBandwidth = jobBandwidth
        self.hostBandwidth = hostBandwidth
        self.maxConcurrentJobs = maxConcurrentJobs
        self.cpuPercent = cpuPercent
        self.cpuWeight = cpuWeight
        self.limits = limits
        self.adaptive = adaptive
    }

    /// The index of the first time-of-day limit in force at `date`, if any.
    public func activeLimit(at date: Date) -> Int? {
        limits.firstIndex { $0.applies(at: date) }
    }
}

/// One entry of `throttle.limits`: different bandwidth or concurrency during some hours of some
/// days. The settings it leaves out keep the throttle's base values.
public struct TimeLimit: Hashable, Sendable, CustomStringConvertible {
    /// Nil = every day.
    public var days: DaySet?
    public var hours: HoursOfDay
    public var timeZone: TimeZone
    public var isHostTimeZone: Bool
    public var hostBandwidth: Bandwidth?
    public var jobBandwidth: Bandwidth?
    public var maxConcurrentJobs: Int?

    public init(
        days: DaySet? = nil, hours: HoursOfDay, timeZone: TimeZone, isHostTimeZone: Bool = false,
        hostBandwidth: Bandwidth? = nil, jobBandwidth: Bandwidth? = nil, maxConcurrentJobs: Int? = nil
    ) {
        self.days = days
        self.hours = hours
        self.timeZone = timeZone
        self.isHostTimeZone = isHostTimeZone
        self.hostBandwidth = hostBandwidth
        self.jobBandwidth = jobBandwidth
        self.maxConcurrentJobs = maxConcurrentJobs
    }

    /// Whether `date` falls in the hours on one of the days, in `timeZone`. A range that wraps
    /// midnight belongs to the day it starts on: `Fri` with `22:00-06:00` holds until Saturday
    /// 06:00, and not on Friday before 06:00.
    public func applies(at date: Date) -> Bool {
        let clock = ZoneClock(zone: timeZone)
        let now = clock.civil(at: Int(date.timeIntervalSince1970.rounded(.down)))
        let minute = now.hour * 60 + now.minute
        let start = hours.startMinute, end = hours.endMinute
        let dayOfStart: CivilTime
        if start < end {
            guard minute >= start && minute < end else { return false }
            dayOfStart = now
        } else if minute >= start {
            dayOfStart = now
        } else if minute < end {
            dayOfStart = now.adding(seconds: -86_400)
        } else {
            return false
        }
        return days?.contains(weekday: dayOfStart.weekday) ?? true
    }

    /// "Monday to Friday 08:00-18:00 Europe/Paris".
    public var description: String {
        [days?.description, hours.description, timeZone.identifier].compactMap { $0 }.joined(separator: " ")
    }
}

/// `HH:MM-HH:MM`, local time: from the first minute up to (not including) the second. An end
/// before the start wraps past midnight; `24:00` is the end of the day.
public struct HoursOfDay: Hashable, Sendable, CustomStringConvertible {
    /// Minutes since midnight, 0..<1440.
    public let startMinute: Int
    /// Minutes since midnight, 1...1440; never equal to `startMinute`.
    public let endMinute: Int

    init(_ text: String) throws(PolicyValueError) {
        let ends = text.split(separator: "-", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard ends.count == 2, let start = Self.minute(ends[0]), let end = Self.minute(ends[1]) else {
            throw PolicyValueError("'\(text)' is not a range of hours such as 08:00-18:00 or 22:00-06:00")
        }
        guard start < 1_440 else { throw PolicyValueError("'\(text)' starts at 24:00; the day ends there") }
        guard start != end else {
            throw PolicyValueError("'\(text)' is empty; use 00:00-24:00 for the whole day")
        }
        startMinute = start
        endMinute = end == 0 ? 1_440 : end
    }

    public var description: String {
        "\(Self.clock(startMinute))-\(Self.clock(endMinute))"
    }

    /// `HH:MM`, 00:00 to 24:00.
    private static func minute(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 2, (1...2).contains(parts[0].count),
              let hour = Int(parts[0]), let minute = Int(parts[1]),
              parts.allSatisfy({ $0.allSatisfy(\.isNumber) }),
              (0...24).contains(hour), (0...59).contains(minute), hour < 24 || minute == 0 else { return nil }
        return hour * 60 + minute
    }

    private static func clock(_ minutes: Int) -> String {
        let h = minutes / 60, m = minutes % 60
        return (h < 10 ? "0\(h)" : "\(h)") + ":" + (m < 10 ? "0\(m)" : "\(m)")
    }
}

/// `throttle.adaptive`: back off while the host or its VMs are busy. For each signal, above
/// `slow` jobs slow down, above `pause` they pause until it falls again.
public struct Adaptive: Hashable, Sendable {
    /// PSI "some" percentage of /proc/pressure/cpu.
    public var cpuPressure: Thresholds?
    /// PSI "some" percentage of /proc/pressure/io.
    public var ioPressure: Thresholds?
    /// The VMs' own average disk latency, in seconds (libvirt block stats).
    public var vmDiskLatency: Thresholds?

    public init(cpuPressure: Thresholds? = nil, ioPressure: Thresholds? = nil, vmDiskLatency: Thresholds? = nil) {
        self.cpuPressure = cpuPressure
        self.ioPressure = ioPressure
        self.vmDiskLatency = vmDiskLatency
    }
}

/// A signal's thresholds; at least one is set, and `slow < pause` when both are.
public struct Thresholds: Hashable, Sendable, Encodable {
    public var slow: Double?
    public var pause: Double?

    public init(slow: Double? = nil, pause: Double? = nil) {
        self.slow = slow
        self.pause = pause
    }
}
