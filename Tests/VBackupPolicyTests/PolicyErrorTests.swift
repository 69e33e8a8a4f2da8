import Foundation
import Testing
import VBackupPolicy

/// Every kind of mistake is reported as `policy file FILE:LINE: what is wrong`, and a file with
/// several mistakes has all of them reported at once.
@Suite("Policy file errors")
struct PolicyErrorTests {
    /// Lines 1 and 2 are `version: 1` and `name: test`; the body starts on line 3.
    static let header = "version: 1\nname: test\n"

    /// One mistake per file, and the `LINE: message` it must produce.
    static let mistakes: [(body: String, error: String)] = [
        // Unknown keys, at every level; the old top-level `vms:` says where it went.
        ("retension:\n  keep-last: 2\n", "3: retension: unknown key 'retension' (known: version, name, priority, select, schedule, retention, store, encryption, throttle, drill, immutable, copy)"),
        ("vms: [web1]\n", "3: vms: unknown key 'vms' (format 1 moved it to select: vms:)"),
        ("select:\n  vm: [web1]\n", "4: select.vm: unknown key 'vm' (known: vms, tags, hosts, exclude)"),
        ("schedule:\n  - calendar: daily\n    windw: 2h\n", "5: schedule[0].windw: unknown key 'windw' (known: calendar, timezone, window, jitter, mode)"),
        ("retention:\n  keep-dayly: 7\n", "4: retention.keep-dayly: unknown key 'keep-dayly' (known: keep-last, keep-hourly, keep-daily, keep-weekly, keep-monthly, keep-yearly)"),
        ("throttle:\n  bandwidth: 5MB/s\n", "4: throttle.bandwidth: unknown key 'bandwidth' (known: job-bandwidth, host-bandwidth, max-concurrent-jobs, cpu, cpu-weight, limits, adaptive)"),
        ("throttle:\n  limits:\n    - hours: 08:00-18:00\n      max-concurrent-jobs: 1\n      cpu: 5%\n", "7: throttle.limits[0].cpu: unknown key 'cpu' (known: days, hours, timezone, host-bandwidth, job-bandwidth, max-concurrent-jobs)"),
        ("throttle:\n  adaptive:\n    cpu-pressure: {slow: 40%, stop: 90%}\n", "5: throttle.adaptive.cpu-pressure.stop: unknown key 'stop' (known: slow, pause)"),
        // Names, priority, store and encryption.
        ("priority: 101\n", "3: priority: must be a whole number from 0 to 100, not 101"),
        ("priority: high\n", "3: priority: expected a whole number from 0 to 100, found 'high'"),
        ("store:\n", "3: store: expected a store path or URL, found nothing"),
        ("encryption: yes\n", "3: encryption: 'yes' is not one of any, required, none"),
        // Selection.
        ("select:\n  vms: []\n", "4: select.vms: names no VM (leave it out to select every VM)"),
        ("select:\n  vms: web1\n", "4: select.vms: expected a list such as [a, b], found 'web1'"),
        ("select:\n  vms: [web1, \"web[12\"]\n", "4: select.vms[1]: 'web[12' opens a [set] that it never closes"),
        ("select:\n  tags: [\"\"]\n", "4: select.tags[0]: is blank"),
        ("select:\n  hosts: []\n", "4: select.hosts: names no host (leave it out for every host)"),
        ("select: all\n", "3: select: expected a mapping (key: value lines), found 'all'"),
        // Schedules.
        ("schedule: []\n", "3: schedule: lists no schedule (leave it out if the agent should never start this policy by itself)"),
        ("schedule:\n  - window: 2h\n", "4: missing required key 'calendar' in schedule[0]"),
        ("schedule:\n  - calendar: \"Mun 01:00\"\n", "4: schedule[0].calendar: 'Mun' is not a day of the week (Mon, Tue, Wed, Thu, Fri, Sat, Sun)"),
        ("schedule:\n  - calendar: \"*-*-* 25:00\"\n", "4: schedule[0].calendar: hour 25 is out of range (0..23)"),
        ("schedule:\n  - calendar: \"*-02-30 01:00\"\n", "4: schedule[0].calendar: '*-02-30 01:00' never matches: no such date exists"),
        ("schedule:\n  - calendar: daily\n    timezone: Europe/Pariss\n", "5: schedule[0].timezone: 'Europe/Pariss' is not an IANA time zone such as Europe/Paris, America/New_York or UTC"),
        ("schedule:\n  - calendar: daily\n    window: 4 hours\n", "5: schedule[0].window: '4 hours' is not a duration such as 90s, 30m, 4h, 1d or 1h30m"),
        ("schedule:\n  - calendar: daily\n    window: 0s\n", "5: schedule[0].window: must be longer than 0s"),
        ("schedule:\n  - calendar: daily\n    window: 1h\n    jitter: 1h\n", "6: schedule[0].jitter: 1h is not shorter than the window (1h): every job must be able to start inside its window"),
        ("schedule:\n  - calendar: daily\n    mode: differential\n", "5: schedule[0].mode: 'differential' is not incremental or full"),
        // Retention.
        ("retention:\n  keep-daily: -1\n", "4: retention.keep-daily: must be a non-negative integer, not -1"),
        ("retention:\n  keep-daily: seven\n", "4: retention.keep-daily: expected a non-negative integer, found 'seven'"),
        ("retention: 7\n", "3: retention: expected a mapping (key: value lines), found '7'"),
        // Throttle.
        ("throttle:\n  job-bandwidth: 50 mbit\n", "4: throttle.job-bandwidth: '50 mbit' is not a rate such as 50MiB/s (B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s) or off"),
        ("throttle:\n  host-bandwidth: 0MB/s\n", "4: throttle.host-bandwidth: '0MB/s' must be at least 1 B/s (write off for no limit)"),
        ("throttle:\n  max-concurrent-jobs: 0\n", "4: throttle.max-concurrent-jobs: must be a whole number from 1 to 1000, not 0"),
        ("throttle:\n  cpu: 50\n", "4: throttle.cpu: '50' is not a percentage such as 40% or 12.5%"),
        ("throttle:\n  cpu: 20000%\n", "4: throttle.cpu: must be from 1% to 10000% (percent of one core: 150% is one and a half), not 20000%"),
        ("throttle:\n  cpu-weight: 0\n", "4: throttle.cpu-weight: must be a whole number from 1 to 10000, not 0"),
        ("throttle:\n  limits:\n    - days: Mon..Fri\n      host-bandwidth: 1MB/s\n", "5: missing required key 'hours' in throttle.limits[0]"),
        ("throttle:\n  limits:\n    - hours: 8-18\n      host-bandwidth: 1MB/s\n", "5: throttle.limits[0].hours: '8-18' is not a range of hours such as 08:00-18:00 or 22:00-06:00"),
        ("throttle:\n  limits:\n    - hours: 08:00-08:00\n      host-bandwidth: 1MB/s\n", "5: throttle.limits[0].hours: '08:00-08:00' is empty; use 00:00-24:00 for the whole day"),
        ("throttle:\n  limits:\n    - days: Mon..Fry\n      hours: 08:00-18:00\n      host-bandwidth: 1MB/s\n", "5: throttle.limits[0].days: 'Fry' is not a day of the week (Mon, Tue, Wed, Thu, Fri, Sat, Sun)"),
        ("throttle:\n  limits:\n    - hours: 08:00-18:00\n", "5: throttle.limits[0]: sets none of host-bandwidth, job-bandwidth, max-concurrent-jobs, so it changes nothing"),
        ("throttle:\n  adaptive:\n    io-pressure: {slow: 60%, pause: 30%}\n", "5: throttle.adaptive.io-pressure: slow (60%) must be below pause (30%): jobs slow down before they pause"),
        ("throttle:\n  adaptive:\n    io-pressure: {slow: 160%}\n", "5: throttle.adaptive.io-pressure.slow: must be above 0% and at most 100%, not 160%"),
        ("throttle:\n  adaptive:\n    vm-disk-latency: {slow: 20, pause: 50ms}\n", "5: throttle.adaptive.vm-disk-latency.slow: '20' is not a latency such as 20ms, 500us or 1s"),
        ("throttle:\n  adaptive:\n    cpu-pressure: {}\n", "5: throttle.adaptive.cpu-pressure: sets neither slow nor pause"),
    ]

    @Test("each kind of mistake names its line and says what is wrong", arguments: mistakes)
    func mistake(_ body: String, _ error: String) {
        #expect(onlyError(Self.header + body) == error)
    }

    @Test("a file with many mistakes reports every one, in line order")
    func manyMistakes() {
        let text = """
            version: 1
            name: "two words"
            priority: 500
            select:
              vms: []
            schedule:
              - calendar: "Mon..Fry 01:00"
                window: 2h
                jitter: 3h
              - calendar: daily
                mode: fast
            retention:
              keep-last: -3
            throttle:
              cpu: 0%
              limits:
                - hours: "22:00-06:00"
                  max-concurrent-jobs: 0
            """
        let found = errors(text, file: "many.yaml").map { "\($0.line ?? 0): \($0.message)" }
        #expect(found == [
            "2: name: 'two words' must be 1 to 64 letters, digits, '.', '_' or '-'",
            "3: priority: must be a whole number from 0 to 100, not 500",
            "5: select.vms: names no VM (leave it out to select every VM)",
            "7: schedule[0].calendar: 'Fry' is not a day of the week (Mon, Tue, Wed, Thu, Fri, Sat, Sun)",
            "9: schedule[0].jitter: 3h is not shorter than the window (2h): every job must be able to start inside its window",
            "11: schedule[1].mode: 'fast' is not incremental or full",
            "13: retention.keep-last: must be a non-negative integer, not -3",
            "15: throttle.cpu: must be from 1% to 10000% (percent of one core: 150% is one and a half), not 0%",
            "18: throttle.limits[0].max-concurrent-jobs: must be a whole number from 1 to 1000, not 0",
        ])
    }

    @Test("the version is required, and another version stops the reading there")
    func version() {
        #expect(onlyError("name: old\nretention:\n  keep-last: 1\n") == "1: missing required key 'version'")
        #expect(onlyError("version: 2\nname: future\nshiny-new-key: 1\n") == "1: version: this vbackup reads policy format 1, not '2'")
        let old = errors("name: old\nvms: [web1]\n").map(\.message)
        #expect(old == ["missing required key 'version'", "vms: unknown key 'vms' (format 1 moved it to select: vms:)"],
                "a file of the old format gets both hints at once")
    }

    @Test("a missing name, an empty file, a list at the top and bad YAML are errors")
    func wholeFile() throws {
        #expect(onlyError("version: 1\n") == "1: missing required key 'name'")
        #expect(onlyError("") == "-: is empty (a policy needs at least 'version: 1' and 'name:')")
        #expect(onlyError("- version: 1\n") == "1: expected a mapping (key: value lines), found a list")
        let unclosed = try #require(errors("version: 1\nname: x\nretention:\n  keep-last: [1, 2\n").first)
        #expect(unclosed.message.hasPrefix("invalid YAML") && unclosed.line != nil, "\(unclosed)")
        let duplicate = try #require(errors("version: 1\nname: x\nretention:\n  keep-last: 1\n  keep-last: 2\n").first)
        #expect(duplicate.message == "invalid YAML: duplicate key 'keep-last'", "\(duplicate)")
    }

    @Test("thrown errors list every problem, one per line")
    func thrown() {
        #expect(throws: PolicyFileErrors.self) { try Policy.parse("version: 1\nname: x\npriority: -1\nstore:\n", file: "x.yaml") }
        do {
            _ = try Policy.parse("version: 1\nname: x\npriority: -1\nstore:\n", file: "x.yaml")
        } catch {
            #expect("\(error)" == """
                policy file x.yaml:3: priority: must be a whole number from 0 to 100, not -1
                policy file x.yaml:4: store: expected a store path or URL, found nothing
                """)
        }
    }
}
