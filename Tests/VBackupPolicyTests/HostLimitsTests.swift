import Foundation
import Testing
import VBackupPolicy

/// Host-wide limits: each policy's time-of-day limits first, then the strictest value wins,
/// and every value says where it came from.
@Suite("Host limits")
struct HostLimitsTests {
    static let mib: UInt64 = 1 << 20

    /// alpha: generous, but tight during Paris office hours. beta: tighter base, lifted at night
    /// (UTC, wrapping midnight). gamma: no throttle at all.
    static func policies() throws -> PolicySet {
        let alpha = try policy("""
            throttle:
              host-bandwidth: 400MiB/s
              max-concurrent-jobs: 4
              cpu: 200%
              cpu-weight: 50
              limits:
                - days: Mon..Fri
                  hours: "08:00-18:00"
                  timezone: Europe/Paris
                  host-bandwidth: 20MiB/s
                  max-concurrent-jobs: 1
              adaptive:
                cpu-pressure: {slow: 40%, pause: 80%}
                vm-disk-latency: {slow: 30ms, pause: 50ms}
            """, name: "alpha")
        let beta = try policy("""
            throttle:
              host-bandwidth: 100MiB/s
              cpu: 150%
              limits:
                - hours: "22:00-06:00"
                  host-bandwidth: off
                  max-concurrent-jobs: 3
              adaptive:
                cpu-pressure: {slow: 50%, pause: 70%}
                io-pressure: {pause: 60%}
                vm-disk-latency: {slow: 20ms, pause: 100ms}
            """, name: "beta")
        return PolicySet(policies: [beta, alpha, try policy("", name: "gamma")])
    }

    @Test("in office hours, alpha's limit is the strictest bandwidth and concurrency")
    func officeHours() throws {
        let limits = try Self.policies().hostLimits(at: at("2025-06-04T12:00:00+02:00"))  // a Wednesday
        #expect(limits.hostBandwidth?.value == 20 * Self.mib)
        #expect(limits.hostBandwidth?.source?.description == "policy alpha, limit Monday to Friday 08:00-18:00 Europe/Paris")
        #expect(limits.maxConcurrentJobs.value == 1 && limits.maxConcurrentJobs.source?.limit != nil)
        #expect(limits.cpuPercent == HostLimits.Setting(value: 150, source: HostLimits.Source(policy: "beta")))
        #expect(limits.cpuWeight == HostLimits.Setting(value: 50, source: HostLimits.Source(policy: "alpha")))
    }

    @Test("at night beta lifts its own bandwidth cap, so alpha's base applies; beta's night concurrency is lower")
    func nightWrapsMidnight() throws {
        let set = try Self.policies()
        for time in ["2025-06-04T23:00:00Z", "2025-06-05T03:00:00Z", "2025-06-05T05:59:00Z"] {
            let limits = set.hostLimits(at: at(time))
            #expect(limits.hostBandwidth == HostLimits.Setting(value: 400 * Self.mib, source: HostLimits.Source(policy: "alpha")), "\(time)")
            #expect(limits.maxConcurrentJobs.value == 3, "\(time)")
            #expect(limits.maxConcurrentJobs.source?.description == "policy beta, limit 22:00-06:00 \(utc.identifier)", "\(time)")
        }
        let morning = set.hostLimits(at: at("2025-06-05T06:00:00Z"))  // 08:00 in Paris: office hours again
        #expect(morning.hostBandwidth?.value == 20 * Self.mib && morning.maxConcurrentJobs.value == 1)
    }

    @Test("at the weekend no limit applies: the lowest base bandwidth wins; alpha's 4 jobs beat the default 2")
    func weekend() throws {
        let limits = try Self.policies().hostLimits(at: at("2025-06-07T12:00:00+02:00"))  // a Saturday
        #expect(limits.hostBandwidth == HostLimits.Setting(value: 100 * Self.mib, source: HostLimits.Source(policy: "beta")))
        #expect(limits.maxConcurrentJobs == HostLimits.Setting(value: 4, source: HostLimits.Source(policy: "alpha")),
                "a policy that sets the value owns it; the default applies only when nobody sets it")
    }

    @Test("adaptive thresholds: the lowest slow and the lowest pause of each signal, possibly from different policies")
    func adaptive() throws {
        let limits = try Self.policies().hostLimits(at: at("2025-06-07T12:00:00Z"))
        #expect(limits.cpuPressure.slow == HostLimits.Setting(value: 40, source: HostLimits.Source(policy: "alpha")))
        #expect(limits.cpuPressure.pause == HostLimits.Setting(value: 70, source: HostLimits.Source(policy: "beta")))
        #expect(limits.ioPressure.slow == nil && limits.ioPressure.pause?.value == 60)
        #expect(limits.vmDiskLatency.slow?.value == 0.02 && limits.vmDiskLatency.slow?.source?.policy == "beta")
        #expect(limits.vmDiskLatency.pause?.value == 0.05 && limits.vmDiskLatency.pause?.source?.policy == "alpha")
    }

    @Test("with no throttle anywhere: two jobs, weight 100, nothing else limited, all from the defaults")
    func defaults() throws {
        let limits = PolicySet(policies: [try policy("", name: "plain")]).hostLimits(at: at("2025-06-04T12:00:00Z"))
        #expect(limits == HostLimits())
        #expect(limits.maxConcurrentJobs == HostLimits.Setting(value: 2, source: nil))
        #expect(limits.cpuWeight == HostLimits.Setting(value: 100, source: nil))
        #expect(limits.hostBandwidth == nil && limits.cpuPercent == nil && limits.cpuPressure == HostLimits.Signal())
    }

    @Test("with a host, only the policies that select that host take part")
    func perHost() throws {
        let lab = try policy("select:\n  hosts: [\"lab-*\"]\nthrottle:\n  max-concurrent-jobs: 1\n", name: "lab")
        let set = PolicySet(policies: [lab, try policy("throttle:\n  max-concurrent-jobs: 5\n", name: "all")])
        let now = at("2025-06-04T12:00:00Z")
        #expect(set.hostLimits(at: now, host: "lab-1").maxConcurrentJobs.value == 1)
        #expect(set.hostLimits(at: now, host: "hv-1").maxConcurrentJobs.value == 5)
        #expect(set.hostLimits(at: now).maxConcurrentJobs.value == 1, "without a host every policy counts")
    }

    @Test("a policy's job bandwidth follows its first matching limit")
    func jobBandwidth() throws {
        let offices = try policy("""
            throttle:
              job-bandwidth: 100MiB/s
              limits:
                - days: Sat,Sun
                  hours: "00:00-24:00"
                  job-bandwidth: off
                - hours: "09:00-17:00"
                  job-bandwidth: 10MiB/s
                - hours: "12:00-13:00"
                  job-bandwidth: 1MiB/s
            """)
        #expect(offices.jobBandwidth(at: at("2025-06-04T08:00:00Z")) == 100 * Self.mib, "no limit matches: the base")
        #expect(offices.jobBandwidth(at: at("2025-06-04T12:30:00Z")) == 10 * Self.mib, "the first match wins, not the strictest")
        #expect(offices.jobBandwidth(at: at("2025-06-07T12:30:00Z")) == nil, "off lifts the cap at the weekend")
        #expect(try policy("").jobBandwidth(at: at("2025-06-04T12:00:00Z")) == nil)
    }

    @Test("a range that wraps midnight belongs to the day it starts on")
    func wrappingDays() throws {
        let limit = try policy("""
            throttle:
              limits:
                - days: Fri
                  hours: "22:00-06:00"
                  max-concurrent-jobs: 1
            """).throttle.limits[0]
        // 2025-06-06 is a Friday.
        #expect(limit.applies(at: at("2025-06-06T22:00:00Z")))
        #expect(limit.applies(at: at("2025-06-07T05:59:00Z")), "Saturday early morning is Friday night")
        #expect(!limit.applies(at: at("2025-06-07T06:00:00Z")))
        #expect(!limit.applies(at: at("2025-06-06T03:00:00Z")), "Friday early morning is Thursday night")
        #expect(!limit.applies(at: at("2025-06-07T23:00:00Z")), "Saturday night is not Friday")
    }
}
