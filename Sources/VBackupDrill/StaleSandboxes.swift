import Foundation
import LibvirtClient

/// Removes what drills that died left behind (killed, a second Ctrl-C, a host crash in the
/// middle): sandbox domains and networks whose marker names a process of this host that no
/// longer runs, and scratch folders whose owner file does. A live drill's sandbox, a kept one
/// (`--keep`), and anything without vbackup's drill marker are never touched.
struct StaleSandboxes {
    static let ownerFile = ".owner"

    let connection: LibvirtConnection
    let host: String
    let scratchParent: URL

    /// Removes every stale sandbox; returns one line per thing removed (or not removable).
    func sweep() -> [String] {
        var report: [String] = []
        let teardown = SandboxTeardown(connection: connection)
        for domain in (try? connection.listAllDomains()) ?? [] where domain.name.hasPrefix(DrillIdentity.prefix) {
            guard let xml = try? domain.xml(inactive: false), let marker = SandboxMarker.find(inXML: xml), isStale(marker) else { continue }
            let problems = teardown.remove(domain: domain, network: nil, disks: nil, folder: Self.sandboxFolder(marker.folder))
            report.append("removed the stale sandbox \(domain.name) of \(marker.drillID)" + Self.suffix(problems))
        }
        for network in (try? connection.listAllNetworks()) ?? [] where network.name.hasPrefix(DrillIdentity.prefix) {
            guard let xml = try? network.xml(), let marker = SandboxMarker.find(inXML: xml), isStale(marker) else { continue }
            let problems = teardown.remove(domain: nil, network: network, disks: nil, folder: nil)
            report.append("removed the stale network \(network.name) of \(marker.drillID)" + Self.suffix(problems))
        }
        let folders = (try? FileManager.default.contentsOfDirectory(at: scratchParent, includingPropertiesForKeys: nil)) ?? []
        for folder in folders where folder.lastPathComponent.hasPrefix("drill-") {
            guard let owner = Self.owner(of: folder), !owner.isAlive else { continue }
            do {
                try FileManager.default.removeItem(at: folder)
                report.append("removed the stale scratch folder \(folder.path)")
            } catch {
                report.append("cannot remove the stale scratch folder \(folder.path): \(error.localizedDescription)")
            }
        }
        return report
    }

    /// The marker's folder, only when it has the shape a drill gives it
    /// (`…/drill-<id>/vbdrill-<…>`): a marker never makes the sweep remove anything else.
    static func sandboxFolder(_ path: String) -> URL? {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        guard url.lastPathComponent.hasPrefix(DrillIdentity.prefix),
              url.deletingLastPathComponent().lastPathComponent.hasPrefix("drill-") else { return nil }
        return url
    }

    private func isStale(_ marker: SandboxMarker) -> Bool {
        !marker.kept && marker.host == host && !marker.owner.isAlive
    }

    /// Writes the drill folder's owner file: which process made it (and will remove it).
    static func claim(_ folder: URL, by owner: ProcessIdentity) throws {
        try Data("\(owner.pid) \(owner.startTicks)\n".utf8).write(to: folder.appendingPathComponent(ownerFile))
    }

    static func owner(of folder: URL) -> ProcessIdentity? {
        guard let text = try? String(contentsOf: folder.appendingPathComponent(ownerFile), encoding: .utf8) else { return nil }
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count == 2, let pid = Int32(fields[0]), let ticks = UInt64(fields[1]) else { return nil }
        return ProcessIdentity(pid: pid, startTicks: ticks)
    }

    private static func suffix(_ problems: [String]) -> String {
        problems.isEmpty ? "" : " (left behind: \(problems.joined(separator: "; ")))"
    }
}
