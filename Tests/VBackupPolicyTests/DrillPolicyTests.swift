import Foundation
import Testing
import VBackupPolicy

/// The `drill:` section: its calendar follows a schedule entry's rules, its checks are checked
/// as strictly as the rest of the file, and `policy check` explains it.
@Suite("Policy drills")
struct DrillPolicyTests {
    @Test("a full drill section parses into its values")
    func fullSection() throws {
        let parsed = try policy("""
            drill:
              calendar: "Sun *-*-* 04:00"
              timezone: Europe/Paris
              window: 2h
              jitter: 10m
              timeout: 10m
              settle: 5s
              network: isolated
              console: "login:|VBGUEST CHECK OK"
              script: /etc/vbackup/drill-checks/web.sh
            """)
        let drill = try #require(parsed.drill)
        #expect(drill.schedule.description == "every Sunday at 04:00 Europe/Paris" && !drill.schedule.isHostTimeZone)
        #expect(drill.schedule.window == 2 * 3600 && drill.schedule.jitter == 600)
        #expect(drill.schedule.isDrill && drill.schedule.index == Schedule.drillIndex && drill.schedule.policyName == "test")
        #expect(drill.timeout == 600 && drill.settle == 5 && drill.network == .isolated)
        #expect(drill.consolePattern == "login:|VBGUEST CHECK OK" && drill.script == "/etc/vbackup/drill-checks/web.sh")
        #expect(parsed.schedules.isEmpty, "a drill is not a backup schedule")
    }

    @Test("only the calendar is required; the rest has the schedule's and the drill's defaults")
    func defaults() throws {
        let drill = try #require(try policy("drill:\n  calendar: weekly\n").drill)
        #expect(drill.schedule.timeZone == utc && drill.schedule.isHostTimeZone)
        #expect(drill.schedule.window == Schedule.defaultWindow && drill.schedule.jitter == 30 * 60)
        #expect(drill.timeout == DrillPolicy.defaultTimeout && drill.settle == DrillPolicy.defaultSettle)
        #expect(drill.network == .none && drill.consolePattern == nil && drill.script == nil)
        #expect(try policy("retention: {keep-last: 1}\n").drill == nil, "no section: no drill")
    }

    @Test("the drill's jitter differs from a schedule's with the same calendar: it is seeded apart")
    func ownJitter() throws {
        let parsed = try policy("schedule:\n  - calendar: daily\ndrill:\n  calendar: daily\n")
        let drill = try #require(parsed.drill)
        let uuids = (0..<20).map { "6f1c2d3e-0000-4000-8000-\(String(format: "%012d", $0))" }
        #expect(uuids.contains { drill.schedule.jitterOffset(vmUUID: $0) != parsed.schedules[0].jitterOffset(vmUUID: $0) })
    }

    static let mistakes: [(String, String)] = [
        ("drill: weekly\n", "3: drill: expected a mapping (key: value lines), found 'weekly'"),
        ("drill:\n  timeout: 5m\n", "4: missing required key 'calendar' in drill"),
        ("drill:\n  calendar: weekly\n  when: now\n", "5: drill.when: unknown key 'when' (known: calendar, timezone, window, jitter, timeout, settle, network, console, script)"),
        ("drill:\n  calendar: \"Sun 25:00\"\n", "4: drill.calendar: hour 25 is out of range (0..23)"),
        ("drill:\n  calendar: weekly\n  timezone: Mars/Olympus\n", "5: drill.timezone: 'Mars/Olympus' is not an IANA time zone such as Europe/Paris, America/New_York or UTC"),
        ("drill:\n  calendar: weekly\n  window: 1h\n  jitter: 2h\n", "6: drill.jitter: 2h is not shorter than the window (1h): every job must be able to start inside its window"),
        ("drill:\n  calendar: weekly\n  timeout: 0s\n", "5: drill.timeout: must be longer than 0s"),
        ("drill:\n  calendar: weekly\n  timeout: ten\n", "5: drill.timeout: 'ten' is not a duration such as 90s, 30m, 4h, 1d or 1h30m"),
        ("drill:\n  calendar: weekly\n  timeout: 1m\n  settle: 2m\n", "6: drill.settle: the settle time (2m) is not shorter than the timeout (1m): the guest could never pass"),
        ("drill:\n  calendar: weekly\n  timeout: 2s\n", "5: drill.timeout: the settle time (3s) is not shorter than the timeout (2s): the guest could never pass"),
        ("drill:\n  calendar: weekly\n  network: bridged\n", "5: drill.network: 'bridged' is not none or isolated"),
        ("drill:\n  calendar: weekly\n  console: \"login:(\"\n", "5: drill.console: 'login:(' is not a valid regular expression"),
        ("drill:\n  calendar: weekly\n  console: \"\"\n", "5: drill.console: is empty (leave it out to skip the console check)"),
        ("drill:\n  calendar: weekly\n  script: checks/web.sh\n", "5: drill.script: 'checks/web.sh' must be an absolute path (the agent has no working folder)"),
        ("drill:\n  calendar: weekly\n  script:\n", "5: drill.script: expected the absolute path of an executable, found nothing"),
    ]

    @Test("each mistake in a drill section names its line and says what is wrong", arguments: mistakes)
    func mistake(_ body: String, _ error: String) {
        #expect(onlyError("version: 1\nname: test\n" + body) == error)
    }

    @Test("a drill section with several mistakes reports every one, beside the rest of the file's")
    func manyMistakes() {
        let text = """
            version: 1
            name: test
            priority: 500
            drill:
              calendar: "Fry 04:00"
              network: wifi
              console: "("
              script: relative.sh
            """
        let found = errors(text).map { "\($0.line ?? 0): \($0.message)" }
        #expect(found == [
            "3: priority: must be a whole number from 0 to 100, not 500",
            "5: drill.calendar: 'Fry' is not a day of the week (Mon, Tue, Wed, Thu, Fri, Sat, Sun)",
            "6: drill.network: 'wifi' is not none or isolated",
            "7: drill.console: '(' is not a valid regular expression",
            "8: drill.script: 'relative.sh' must be an absolute path (the agent has no working folder)",
        ])
    }

    @Test("policy check explains the drill: when, how, which checks, the next fire times")
    func explained() throws {
        let report = PolicyReport(try PolicyReportTests.example("weekly-full.yaml"), now: at("2025-03-28T12:00:00Z"))
        let start = try #require(report.lines.firstIndex { $0.hasPrefix("  drill:") })
        #expect(Array(report.lines[start...]) == [
            "  drill: every Sunday at 12:00 Europe/Paris: boots each VM's newest point in a sandbox with an isolated network with no route out",
            "    each VM starts up to 30m after the fire time (its own jitter) and must start within 4h of it; it fails unless healthy within 10m",
            "    checks: running for 30s after the other checks; the guest agent if the VM has one; a console line matching login:; "
                + "the script /etc/vbackup/drill-checks/db.sh exits 0",
            "    next: Sun 2025-03-30 12:00 +02:00, Sun 2025-04-06 12:00 +02:00, Sun 2025-04-13 12:00 +02:00",
        ])
        let bare = PolicyReport(try policy("retention: {keep-last: 1}\n"), now: at("2025-06-01T00:00:00Z"))
        #expect(bare.lines.last == "  drill: none (the agent never drills this policy's VMs)")
    }

    @Test("policy check's JSON carries the drill with seconds and fire times; no section, no key")
    func json() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let report = PolicyReport(try PolicyReportTests.example("weekly-full.yaml"), now: at("2025-03-28T12:00:00Z"))
        let object = try #require(try JSONSerialization.jsonObject(with: encoder.encode(report)) as? [String: Any])
        let drill = try #require(object["drill"] as? [String: Any])
        #expect(Set(drill.keys) == ["calendar", "description", "timezone", "hostTimezone", "windowSeconds", "jitterSeconds",
                                    "timeoutSeconds", "settleSeconds", "network", "console", "script", "next"])
        #expect(drill["calendar"] as? String == "Sun 12:00" && drill["timezone"] as? String == "Europe/Paris")
        #expect(drill["windowSeconds"] as? Double == 4 * 3600 && drill["timeoutSeconds"] as? Double == 600 && drill["settleSeconds"] as? Double == 30)
        #expect(drill["network"] as? String == "isolated" && drill["console"] as? String == "login:")
        #expect((drill["next"] as? [String])?.first == "2025-03-30T12:00:00+02:00")
        let bare = try JSONSerialization.jsonObject(with: encoder.encode(PolicyReport(try policy("drill:\n  calendar: weekly\n"), now: Date())))
        #expect(((bare as? [String: Any])?["drill"] as? [String: Any]).map { $0["console"] == nil && $0["script"] == nil } == true)
    }
}
