import FleetAPI
import Foundation
@testable import VBackupServer

/// A small fleet for the page tests and ways to pick a page apart without an HTML parser
/// (the pages are regular enough: one `<section id>` per part, one `<tr>` per row).
extension DashboardPageTests {
    struct SectionMissing: Error { var id: String }

    static func section(_ id: String, of page: String) throws -> String {
        guard let start = page.range(of: "<section id=\"\(id)\">"),
              let end = page.range(of: "</section>", range: start.upperBound..<page.endIndex)
        else { throw SectionMissing(id: id) }
        return String(page[start.lowerBound..<end.upperBound])
    }

    /// The body rows of the section's table.
    static func rows(of section: String) -> [String] {
        guard let body = section.range(of: "<tbody>") else { return [] }
        return section[body.upperBound...].components(separatedBy: "<tr").dropFirst().map { "<tr" + $0 }
    }

    struct Bar {
        var key: String
        var height: Double
        var failed: Bool
    }

    static func bars(in section: String) -> [Bar] {
        section.matches(of: /<rect class="bar( failed)?" data-key="([^"]+)"[^>]* height="([0-9.]+)"/).map {
            Bar(key: String($0.2), height: Double($0.3) ?? -1, failed: $0.1 != nil)
        }
    }

    static func sample() -> DashboardSnapshot {
        let gib: Int64 = 1024 * 1024 * 1024
        let hosts = [
            HostInfo(id: "h1", name: "kvm-a", groups: ["prod", "eu"], agentVersion: "1.4.0", libvirtVersion: "9.0.0",
                     enrolledAt: now.addingTimeInterval(-86400 * 10), lastContact: now.addingTimeInterval(-185),
                     revoked: false, health: .warning, problems: ["web-2 is overdue"], vmCount: 2, policyErrors: []),
            HostInfo(id: "h2", name: "kvm-b", groups: [], agentVersion: "1.3.9", libvirtVersion: nil,
                     enrolledAt: now.addingTimeInterval(-86400 * 3), lastContact: now.addingTimeInterval(-7510),
                     revoked: false, health: .unreachable, problems: ["no contact for 2 h 5 min"], vmCount: 1, policyErrors: []),
        ]
        let vms = [
            vm("db-1", host: hosts[0], policy: "nightly", lastPointAt: now.addingTimeInterval(-3 * 3600), overdue: false),
            vm("web-2", host: hosts[0], policy: "nightly", lastPointAt: nil, overdue: true),
            vm("scratch", host: hosts[1], policy: nil, lastPointAt: nil, overdue: false),
        ]
        let failed = job("j1", vm: vms[0], state: "failed", started: now.addingTimeInterval(-1800),
                         finished: now.addingTimeInterval(-1200), bytesRead: 3 * gib / 2,
                         error: "disk vda: NBD read failed at 1073741824")
        let running = job("j2", vm: vms[1], state: "running", started: now.addingTimeInterval(-600),
                          finished: nil, bytesRead: 600 * 1024 * 1024, error: nil)
        let samples = [(-2 * 86400.0, 30 * gib), (-86400.0, 35 * gib), (-60.0, 40 * gib)].map {
            StoreUsageInfo.Sample(at: now.addingTimeInterval($0.0), storedBytes: $0.1, logicalBytes: 5 * $0.1, points: 12)
        }
        return DashboardSnapshot(
            now: now, signedInAs: "alice", hosts: hosts, vms: vms, failedJobs: [failed], runningJobs: [running],
            storeUsage: [StoreUsageInfo(hostID: "h1", hostName: "kvm-a", store: "/srv/backup", samples: samples)],
            nights: [NightlyThroughput(night: "2025-06-14", bytesRead: 10 * gib, bytesStored: gib, jobs: 3, failedJobs: 1)]
        )
    }

    static func vm(_ name: String, host: HostInfo, policy: String?, lastPointAt: Date?, overdue: Bool) -> VMInfo {
        VMInfo(hostID: host.id, hostName: host.name, uuid: UUID().uuidString.lowercased(), name: name, state: "running",
               tags: [], disks: [], policy: policy, lastPointID: lastPointAt == nil ? nil : "p-\(name)",
               lastPointAt: lastPointAt, lastPointAgeSeconds: lastPointAt.map { now.timeIntervalSince($0) },
               maximumPointAgeSeconds: policy == nil ? nil : 26 * 3600, overdue: overdue, lastJobState: nil)
    }

    static func job(_ id: String, vm: VMInfo, state: String, started: Date, finished: Date?, bytesRead: Int64,
                    error: String?) -> JobInfo {
        JobInfo(id: id, hostID: vm.hostID, hostName: vm.hostName, vmUUID: vm.uuid, vmName: vm.name,
                policy: vm.policy ?? "nightly", trigger: "schedule", state: state, fullBackup: false,
                queuedAt: started, startedAt: started, finishedAt: finished, bytesRead: bytesRead, bytesStored: 0,
                bytesPerSecond: nil, throttledSeconds: 0, overran: false, error: error, pointID: nil)
    }
}
