import Foundation

/// A policy explained: every setting with its effective value (defaults filled in), a plain
/// English description, and the next fire times of each schedule. `vbackup policy check`
/// prints it as text (`lines`) or JSON; the agent can show the same in its status.
///
/// The JSON field names are a stable contract. Bandwidths are `{"bytesPerSecond": N, "text":
/// "50 MiB/s"}` (`bytesPerSecond` null for `off`), and a key that is absent means "not set";
/// durations and latencies are seconds; percentages are numbers of percent; fire times are
/// ISO 8601 in the schedule's zone; retention uses the file's keys (`keep-daily`).
public struct PolicyReport: Encodable, Sendable {
    public struct Selection: Encodable, Sendable {
        public var description: String
        /// Null = every VM / tags do not matter / every host.
        public var vms: [String]?
        public var tags: [String]?
        public var hosts: [String]?
        public var exclude: [String]
    }

    public struct ScheduleEntry: Encodable, Sendable {
        public var calendar: String
        public var description: String
        public var timezone: String
        /// True when the file names no zone and the host's is used.
        public var hostTimezone: Bool
        public var windowSeconds: Double
        public var jitterSeconds: Double
        public var mode: String
        /// ISO 8601 in `timezone`.
        public var next: [String]
        /// The same fire times, for text output.
        var fires: [Date]
        var zone: TimeZone

        enum CodingKeys: String, CodingKey {
            case calendar, description, timezone, hostTimezone, windowSeconds, jitterSeconds, mode, next
        }
    }

    public struct Rate: Encodable, Sendable {
        public var bytesPerSecond: UInt64?
        public var text: String

        init?(_ bandwidth: Bandwidth?) {
            guard let bandwidth else { return nil }
            bytesPerSecond = bandwidth.limit
            text = bandwidth.description
        }
    }

    public struct Limit: Encodable, Sendable {
        public var description: String
        /// As written; null = every day.
        public var days: String?
        public var hours: String
        public var timezone: String
        public var hostBandwidth: Rate?
        public var jobBandwidth: Rate?
        public var maxConcurrentJobs: Int?
    }

    public struct ThrottleEntry: Encodable, Sendable {
        public var jobBandwidth: Rate?
        public var hostBandwidth: Rate?
        public var maxConcurrentJobs: Int?
        public var cpuPercent: Double?
        public var cpuWeight: Int?
        public var limits: [Limit]
        public var cpuPressurePercent: Thresholds?
        public var ioPressurePercent: Thresholds?
        public var vmDiskLatencySeconds: Thresholds?
    }

    /// A policy's `drill:` section: its calendar like a schedule entry's, and the checks.
    public struct DrillEntry: Encodable, Sendable {
        public var calendar: String
        public var description: String
        public var timezone: String
        public var hostTimezone: Bool
        public var windowSeconds: Double
        public var jitterSeconds: Double
        public var timeoutSeconds: Double
        public var settleSeconds: Double
        /// none or isolated.
        public var network: String
        /// Absent: no console check.
        public var console: String?
        /// Absent: no check script.
        public var script: String?
        /// ISO 8601 in `timezone`.
        public var next: [String]
        var fires: [Date]
        var zone: TimeZone

        enum CodingKeys: String, CodingKey {
            case calendar, description, timezone, hostTimezone, windowSeconds, jitterSeconds, timeoutSeconds, settleSeconds,
                 network, console, script, next
        }
    }

    public var version = Policy.formatVersion
    public var name: String
    public var priority: Int
    public var select: Selection
    public var schedules: [ScheduleEntry]
    public var retention: RetentionRules
    /// Null = the agent's default store.
    public var store: String?
    public var encryption: String
    /// Absent: ordinary points; else each point is immutable (object lock) for this long.
    public var immutableSeconds: TimeInterval?
    public var throttle: ThrottleEntry
    /// Absent: the agent never drills this policy's VMs.
    public var drill: DrillEntry?
    /// Absent: the agent never copies this policy's points to another store.
    public var copy: CopyEntry?

    /// The explanation of `policy`, with each schedule's next `fireCount` fire times after `now`.
    public init(_ policy: Policy, now: Date, fireCount: Int = 3) {
        name = policy.name
        priority = policy.priority
        let selection = policy.selection
        select = Selection(
            description: selection.description, vms: selection.vms?.map(\.description), tags: selection.tags,
            hosts: selection.hosts?.map(\.pattern), exclude: selection.exclude.map(\.description))
        schedules = policy.schedules.map { schedule in
            let fires = schedule.fireTimes(after: now, count: fireCount)
            return ScheduleEntry(
                calendar: schedule.calendar.expression, description: schedule.description,
                timezone: schedule.timeZone.identifier, hostTimezone: schedule.isHostTimeZone,
                windowSeconds: schedule.window, jitterSeconds: schedule.jitter, mode: schedule.mode.rawValue,
                next: fires.map { LocalTime.iso($0, in: schedule.timeZone) }, fires: fires, zone: schedule.timeZone)
        }
        retention = policy.retention
        store = policy.store
        encryption = policy.encryption.rawValue
        immutableSeconds = policy.immutableFor
        throttle = ThrottleEntry(policy.throttle)
        drill = policy.drill.map { DrillEntry($0, now: now, fireCount: fireCount) }
        copy = policy.copy.map { CopyEntry($0, now: now, fireCount: fireCount) }
    }
}

extension PolicyReport.DrillEntry {
    init(_ drill: DrillPolicy, now: Date, fireCount: Int) {
        let schedule = drill.schedule
        fires = schedule.fireTimes(after: now, count: fireCount)
        zone = schedule.timeZone
        calendar = schedule.calendar.expression
        description = schedule.description
        timezone = schedule.timeZone.identifier
        hostTimezone = schedule.isHostTimeZone
        windowSeconds = schedule.window
        jitterSeconds = schedule.jitter
        timeoutSeconds = drill.timeout
        settleSeconds = drill.settle
        network = drill.network.rawValue
        console = drill.consolePattern
        script = drill.script
        next = fires.map { LocalTime.iso($0, in: schedule.timeZone) }
    }
}

extension PolicyReport.ThrottleEntry {
    init(_ throttle: Throttle) {
        jobBandwidth = PolicyReport.Rate(throttle.jobBandwidth)
        hostBandwidth = PolicyReport.Rate(throttle.hostBandwidth)
        maxConcurrentJobs = throttle.maxConcurrentJobs
        cpuPercent = throttle.cpuPercent
        cpuWeight = throttle.cpuWeight
        limits = throttle.limits.map { limit in
            PolicyReport.Limit(
                description: limit.description, days: limit.days?.text, hours: limit.hours.description,
                timezone: limit.timeZone.identifier, hostBandwidth: PolicyReport.Rate(limit.hostBandwidth),
                jobBandwidth: PolicyReport.Rate(limit.jobBandwidth), maxConcurrentJobs: limit.maxConcurrentJobs)
        }
        cpuPressurePercent = throttle.adaptive.cpuPressure
        ioPressurePercent = throttle.adaptive.ioPressure
        vmDiskLatencySeconds = throttle.adaptive.vmDiskLatency
    }
}

/// Instants written as wall time in a zone, with the offset, so a reader sees both the local
/// time and which side of a DST change it is on.
enum LocalTime {
    /// `2025-06-03T01:00:00+02:00`.
    static func iso(_ date: Date, in zone: TimeZone) -> String {
        let (civil, offset) = parts(date, zone)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d", civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second)
            + Self.offset(offset)
    }

    /// `Tue 2025-06-03 01:00 +02:00`.
    static func readable(_ date: Date, in zone: TimeZone) -> String {
        let (civil, offset) = parts(date, zone)
        let weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][civil.weekday - 1]
        let seconds = civil.second == 0 ? "" : String(format: ":%02d", civil.second)
        return weekday + String(format: " %04d-%02d-%02d %02d:%02d", civil.year, civil.month, civil.day, civil.hour, civil.minute)
            + seconds + " " + Self.offset(offset)
    }

    private static func parts(_ date: Date, _ zone: TimeZone) -> (CivilTime, Int) {
        let clock = ZoneClock(zone: zone)
        let instant = Int(date.timeIntervalSince1970.rounded(.down))
        return (clock.civil(at: instant), clock.offset(at: instant))
    }

    private static func offset(_ seconds: Int) -> String {
        (seconds < 0 ? "-" : "+") + String(format: "%02d:%02d", abs(seconds) / 3_600, abs(seconds) / 60 % 60)
    }
}
