import Foundation
import Testing
import VBackupPolicy

/// The `copy:` section: its calendar follows a schedule entry's rules, its target and options
/// are checked as strictly as the rest of the file.
@Suite("Policy copies")
struct CopyPolicyTests {
    @Test("a full copy section parses into its values")
    func fullSection() throws {
        let parsed = try policy("""
            store: /var/lib/vbackup/store
            copy:
              to: s3://offsite/vbackup?endpoint=https://s3.example.net
              calendar: "*-*-* 03:00"
              timezone: Europe/Paris
              window: 4h
              jitter: 20m
              bandwidth: 50MiB/s
              vms: [web-*, db1]
              key-file: /etc/vbackup/offsite.key
              passphrase-file: /etc/vbackup/offsite.pass
              immutable: 30d
            """)
        let copy = try #require(parsed.copy)
        #expect(copy.target == "s3://offsite/vbackup?endpoint=https://s3.example.net")
        #expect(copy.schedule.description == "every day at 03:00 Europe/Paris" && !copy.schedule.isHostTimeZone)
        #expect(copy.schedule.window == 4 * 3600 && copy.schedule.jitter == 1200)
        #expect(copy.schedule.isCopy && !copy.schedule.isDrill && copy.schedule.index == Schedule.copyIndex)
        #expect(copy.bandwidth == .bytesPerSecond(50 << 20))
        #expect(copy.vms?.map(\.description) == ["web-*", "db1"])
        #expect(copy.keyFile == "/etc/vbackup/offsite.key" && copy.passphraseFile == "/etc/vbackup/offsite.pass")
        #expect(copy.immutableFor == TimeInterval(30 * 86_400))
        #expect(parsed.immutableFor == nil, "the copies' lock is not the policy's own points'")
        #expect(parsed.schedules.isEmpty, "a copy is not a backup schedule")
    }

    @Test("only the target and calendar are required: unlimited, every VM of the policy, the agent's keys")
    func defaults() throws {
        let copy = try #require(try policy("copy:\n  to: /mnt/offsite/store\n  calendar: daily\n").copy)
        #expect(copy.bandwidth == .unlimited && copy.vms == nil && copy.keyFile == nil && copy.passphraseFile == nil)
        #expect(copy.immutableFor == nil, "ordinary copies")
        #expect(copy.schedule.window == Schedule.defaultWindow && copy.schedule.isHostTimeZone)
        #expect(try policy("retention: {keep-last: 1}\n").copy == nil, "no section: no copy")
    }

    @Test("vms narrows the policy's VMs by name or UUID")
    func narrowing() throws {
        let copy = try #require(try policy("copy:\n  to: /mnt/offsite\n  calendar: daily\n  vms: [web-*, 6F1C2D3E-0000-4000-8000-000000000001]\n").copy)
        #expect(copy.copies(VMFacts(name: "web-3", uuid: "u1", host: "h")))
        #expect(copy.copies(VMFacts(name: "renamed", uuid: "6f1c2d3e-0000-4000-8000-000000000001", host: "h")))
        #expect(!copy.copies(VMFacts(name: "db1", uuid: "u2", host: "h")))
    }

    @Test("the copy's jitter is seeded apart from a schedule's and the drill's with the same calendar")
    func ownJitter() throws {
        let parsed = try policy("schedule:\n  - calendar: daily\ndrill:\n  calendar: daily\ncopy:\n  to: /mnt/o\n  calendar: daily\n")
        let copy = try #require(parsed.copy), drill = try #require(parsed.drill)
        let uuids = (0..<20).map { "6f1c2d3e-0000-4000-8000-\(String(format: "%012d", $0))" }
        #expect(uuids.contains { copy.schedule.jitterOffset(vmUUID: $0) != parsed.schedules[0].jitterOffset(vmUUID: $0) })
        #expect(uuids.contains { copy.schedule.jitterOffset(vmUUID: $0) != drill.schedule.jitterOffset(vmUUID: $0) })
    }

    @Test("policy check explains the copy: where to, when, how fast, the next fire times; nothing without one")
    func explained() throws {
        let parsed = try policy("copy:\n  to: /mnt/offsite\n  calendar: \"*-*-* 03:30\"\n  timezone: Europe/Paris\n  window: 4h\n"
            + "  jitter: 30m\n  bandwidth: 40MiB/s\n  vms: [web-*]\n")
        let report = PolicyReport(parsed, now: at("2025-03-29T12:00:00+01:00"))
        #expect(Array(report.lines.suffix(3)) == [
            "  copy: every day at 03:30 Europe/Paris: the points of VMs web-* among the policy's not yet in /mnt/offsite, only the chunks it lacks",
            "    each VM starts up to 30m after the fire time (its own jitter) and must start within 4h of it; bandwidth 40 MiB/s",
            "    next: Sun 2025-03-30 03:30 +02:00, Mon 2025-03-31 03:30 +02:00, Tue 2025-04-01 03:30 +02:00",
        ])
        #expect(report.copy?.bandwidth.bytesPerSecond == 40 << 20 && report.copy?.to == "/mnt/offsite")
        let locked = PolicyReport(try policy("copy:\n  to: s3://offsite/v\n  calendar: daily\n  immutable: 14d\n"), now: Date())
        #expect(locked.lines.contains("    each copy immutable in the target for 14d (S3 Object Lock; the target must have it)"), "\(locked.lines)")
        #expect(locked.copy?.immutableSeconds == 14 * 86_400 && report.copy?.immutableSeconds == nil)
        let bare = PolicyReport(try policy("retention: {keep-last: 1}\n"), now: Date())
        #expect(bare.copy == nil && !bare.lines.contains { $0.contains("copy") })
    }

    static let mistakes: [(String, String)] = [
        ("copy: s3://b/p\n", "3: copy: expected a mapping (key: value lines), found 's3://b/p'"),
        ("copy:\n  to: /mnt/o\n", "4: missing required key 'calendar' in copy"),
        ("copy:\n  calendar: daily\n", "4: missing required key 'to' in copy"),
        ("copy:\n  to: /mnt/o\n  calendar: daily\n  when: now\n",
         "6: copy.when: unknown key 'when' (known: calendar, timezone, window, jitter, to, bandwidth, vms, key-file, passphrase-file, immutable)"),
        ("copy:\n  to: /mnt/o\n  calendar: daily\n  immutable: forever\n",
         "6: copy.immutable: 'forever' is not a duration such as 90s, 30m, 4h, 1d or 1h30m"),
        ("copy:\n  to: offsite/store\n  calendar: daily\n",
         "4: copy.to: 'offsite/store' must be an absolute path or a URL such as s3://bucket/prefix (the agent has no working folder)"),
        ("store: /var/lib/vbackup/store\ncopy:\n  to: file:///var/lib/vbackup/store/\n  calendar: daily\n",
         "5: copy.to: 'file:///var/lib/vbackup/store/' is the policy's own store: a copy must go to another store"),
        ("copy:\n  to: /mnt/o\n  calendar: \"Sun 25:00\"\n", "5: copy.calendar: hour 25 is out of range (0..23)"),
        ("copy:\n  to: /mnt/o\n  calendar: daily\n  window: 1h\n  jitter: 2h\n",
         "7: copy.jitter: 2h is not shorter than the window (1h): every job must be able to start inside its window"),
        ("copy:\n  to: /mnt/o\n  calendar: daily\n  bandwidth: fast\n",
         "6: copy.bandwidth: 'fast' is not a rate such as 50MiB/s (B/s, KB/s, MB/s, GB/s, KiB/s, MiB/s, GiB/s) or off"),
        ("copy:\n  to: /mnt/o\n  calendar: daily\n  vms: []\n", "6: copy.vms: names no VM (leave it out to copy every VM of the policy)"),
        ("copy:\n  to: /mnt/o\n  calendar: daily\n  passphrase-file: pass.txt\n",
         "6: copy.passphrase-file: 'pass.txt' must be an absolute path (the agent has no working folder)"),
        ("copy:\n  to:\n  calendar: daily\n", "4: copy.to: expected a store path or URL, found nothing"),
    ]

    @Test("each mistake in a copy section names its line and says what is wrong", arguments: mistakes)
    func mistake(_ body: String, _ error: String) {
        #expect(onlyError("version: 1\nname: test\n" + body) == error)
    }
}
