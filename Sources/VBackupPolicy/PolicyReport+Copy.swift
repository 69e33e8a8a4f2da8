import Foundation

/// A policy's `copy:` section as `vbackup policy check` explains it.
extension PolicyReport {
    public struct CopyEntry: Encodable, Sendable {
        public var to: String
        public var calendar: String
        public var description: String
        public var timezone: String
        public var hostTimezone: Bool
        public var windowSeconds: Double
        public var jitterSeconds: Double
        public var bandwidth: Rate
        /// Absent: every VM the policy selects.
        public var vms: [String]?
        public var keyFile: String?
        public var passphraseFile: String?
        /// Absent: ordinary copies; else each copy is immutable in the target for this long.
        public var immutableSeconds: TimeInterval?
        /// ISO 8601 in `timezone`.
        public var next: [String]
        var fires: [Date]
        var zone: TimeZone

        enum CodingKeys: String, CodingKey {
            case to, calendar, description, timezone, hostTimezone, windowSeconds, jitterSeconds, bandwidth, vms,
                 keyFile, passphraseFile, immutableSeconds, next
        }

        init(_ copy: CopyPolicy, now: Date, fireCount: Int) {
            let schedule = copy.schedule
            fires = schedule.fireTimes(after: now, count: fireCount)
            zone = schedule.timeZone
            to = copy.target
            calendar = schedule.calendar.expression
            description = schedule.description
            timezone = schedule.timeZone.identifier
            hostTimezone = schedule.isHostTimeZone
            windowSeconds = schedule.window
            jitterSeconds = schedule.jitter
            bandwidth = Rate(copy.bandwidth)!
            vms = copy.vms?.map(\.description)
            keyFile = copy.keyFile
            passphraseFile = copy.passphraseFile
            immutableSeconds = copy.immutableFor
            next = fires.map { LocalTime.iso($0, in: schedule.timeZone) }
        }
    }

    /// Nothing without a `copy:` section (the explanation of such a policy is as it was).
    var copyLines: [String] {
        guard let copy else { return [] }
        let zone = copy.hostTimezone ? " (the host's time zone)" : ""
        let which = copy.vms.map { "the points of VMs " + $0.joined(separator: ", ") + " among the policy's" } ?? "every VM's points"
        let next = copy.fires.map { LocalTime.readable($0, in: copy.zone) }
        var lines = [
            "  copy: \(copy.description)\(zone): \(which) not yet in \(copy.to), only the chunks it lacks",
            "    each VM starts up to \(Units.describe(duration: copy.jitterSeconds)) after the fire time (its own jitter) "
                + "and must start within \(Units.describe(duration: copy.windowSeconds)) of it; bandwidth \(copy.bandwidth.text)",
        ]
        if let immutableSeconds = copy.immutableSeconds {
            lines.append("    each copy immutable in the target for \(Units.describe(duration: immutableSeconds)) "
                         + "(S3 Object Lock; the target must have it)")
        }
        lines.append("    next: " + (next.isEmpty ? "none (the calendar has no later date)" : next.joined(separator: ", ")))
        return lines
    }
}
