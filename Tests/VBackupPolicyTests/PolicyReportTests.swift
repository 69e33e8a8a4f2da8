import Foundation
import Testing
import VBackupPolicy

/// What `vbackup policy check` says about a valid policy, in words and in JSON.
@Suite("Policy explanations")
struct PolicyReportTests {
    static func example(_ name: String) throws -> Policy {
        try Policy.load(path: PolicyFileTests.policiesDirectory.appendingPathComponent(name).path, hostTimeZone: utc)
    }

    @Test("the nightly example, explained line by line, with the next fire times across the spring change")
    func nightlyText() throws {
        let report = PolicyReport(try Self.example("nightly.yaml"), now: at("2025-03-28T12:00:00Z"))
        #expect(report.lines == [
            "policy 'nightly' (format 1), priority 50",
            "  selects: every VM, on every host, except *-scratch",
            "  schedule 1: every day at 01:00 Europe/Paris, incremental (a full read only when needed)",
            "    each VM starts up to 20m after the fire time (its own jitter) and must finish within 4h of it",
            "    next: Sat 2025-03-29 01:00 +01:00, Sun 2025-03-30 01:00 +01:00, Mon 2025-03-31 01:00 +02:00",
            "  retention: keep-last 3, keep-daily 7, keep-weekly 4, keep-monthly 6",
            "  store: the agent's default store",
            "  encryption: any (backs up into the store whether it is encrypted or not)",
            "  throttle (host-wide values combine across policies: the strictest wins):",
            "    job bandwidth: 100 MiB/s per job",
            "    host bandwidth: 400 MiB/s shared by the host's jobs",
            "    concurrent jobs: at most 2 jobs on the host",
            "    during Monday to Friday 08:00-18:00 Europe/Paris: host bandwidth 20 MiB/s, at most 1 job",
            "    cpu pressure: slows jobs above 40%, pauses them above 80%",
            "    io pressure: slows jobs above 30%, pauses them above 60%",
            "    VM disk latency: slows jobs above 20ms, pauses them above 50ms",
            "  drill: none (the agent never drills this policy's VMs)",
        ])
    }

    @Test("a policy without schedule or throttle says so; the host's zone is named as such")
    func plainText() throws {
        let bare = PolicyReport(try policy("retention: {keep-last: 1}\nencryption: none\n", name: "bare"), now: at("2025-06-01T00:00:00Z"))
        #expect(bare.lines.contains("  schedule: none; the agent never starts this policy by itself"))
        #expect(bare.lines.contains("  throttle: none (this policy adds no limit)"))
        #expect(bare.lines.contains("  encryption: none (backs up only into a plain, unencrypted store)"))
        let hourly = PolicyReport(try Self.example("critical-hourly.yaml"), now: at("2025-06-01T00:00:00Z"))
        #expect(hourly.lines[2] == "  schedule 1: every hour at minute 5 \(utc.identifier) (the host's time zone), incremental (a full read only when needed)")
        #expect(hourly.lines[4] == "    next: Sun 2025-06-01 00:05 +00:00, Sun 2025-06-01 01:05 +00:00, Sun 2025-06-01 02:05 +00:00")
    }

    @Test("JSON: stable names, numbers in bytes, seconds and percent, fire times with their offset")
    func json() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let report = PolicyReport(try Self.example("nightly.yaml"), now: at("2025-03-28T12:00:00Z"))
        let object = try #require(try JSONSerialization.jsonObject(with: encoder.encode(report)) as? [String: Any])
        #expect(Set(object.keys) == ["version", "name", "priority", "select", "schedules", "retention", "encryption", "throttle"],
                "store is absent: the agent's default")
        let schedule = try #require((object["schedules"] as? [[String: Any]])?.first)
        #expect(schedule["windowSeconds"] as? Double == 14_400 && schedule["jitterSeconds"] as? Double == 1_200)
        #expect(schedule["next"] as? [String] == ["2025-03-29T01:00:00+01:00", "2025-03-30T01:00:00+01:00", "2025-03-31T01:00:00+02:00"])
        #expect(schedule["description"] as? String == "every day at 01:00 Europe/Paris" && schedule["hostTimezone"] as? Bool == false)
        let retention = try #require(object["retention"] as? [String: Int])
        #expect(retention == ["keep-last": 3, "keep-daily": 7, "keep-weekly": 4, "keep-monthly": 6])
        let throttle = try #require(object["throttle"] as? [String: Any])
        #expect((throttle["jobBandwidth"] as? [String: Any])?["bytesPerSecond"] as? Int == 100 << 20)
        #expect((throttle["cpuPressurePercent"] as? [String: Double]) == ["slow": 40, "pause": 80])
        #expect((throttle["vmDiskLatencySeconds"] as? [String: Double]) == ["slow": 0.02, "pause": 0.05])
        let limit = try #require((throttle["limits"] as? [[String: Any]])?.first)
        #expect(limit["days"] as? String == "Mon..Fri" && limit["hours"] as? String == "08:00-18:00" && limit["maxConcurrentJobs"] as? Int == 1)
    }
}
