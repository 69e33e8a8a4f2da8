import BackupEngine
import Foundation
import LibvirtClient
import XCTest

/// The tiny bootable guest (Tests/TinyGuest) for drills: its kernel and initramfs built once with
/// build.sh into a cached folder (`$TINYGUEST_DIR`, default
/// /var/lib/libvirt/images/vbackup-tinyguest), each guest's data disk made with make-disk.sh and
/// its domain defined with define-guest.sh, in the `Lab`'s folder. Every guest it defines it
/// removes in `cleanup`.
final class TinyGuestLab {
    static let guestDirectory = ProcessInfo.processInfo.environment["TINYGUEST_DIR"] ?? "/var/lib/libvirt/images/vbackup-tinyguest"
    /// This repository's Tests/TinyGuest.
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TinyGuest")

    /// build.sh runs once per test process (it is cached across processes too).
    private static let built: Result<Void, Error> = Result {
        let build = try runTool("/bin/bash", [scripts.appendingPathComponent("build.sh").path, guestDirectory])
        guard build.status == 0 else { throw GuestError("build.sh failed: \(build.err)\(build.out)") }
    }

    struct GuestError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// One defined guest: its domain, data disk and console file.
    struct Guest {
        let domain: LibvirtDomain
        let disk: String
        let serialLog: String
        var name: String { domain.name }

        /// The console so far.
        var console: String { (try? String(contentsOfFile: serialLog, encoding: .utf8)) ?? "" }

        /// Waits until a console line contains `text`; fails on a `VBGUEST … FAIL` line first.
        func waitForConsole(_ text: String, timeout: TimeInterval = 90) throws {
            let end = Date().addingTimeInterval(timeout)
            while Date() < end {
                let console = self.console
                if console.contains(text) { return }
                if let failure = console.split(separator: "\n").first(where: { $0.hasPrefix("VBGUEST") && $0.contains("FAIL") }) {
                    throw GuestError("\(name) failed before '\(text)': \(failure)")
                }
                usleep(100_000)
            }
            throw GuestError("no '\(text)' on \(name)'s console after \(Int(timeout)) s:\n\(console)")
        }
    }

    let lab: Lab
    private var guests: [Guest] = []

    init(lab: Lab) throws {
        self.lab = lab
        try Self.built.get()
    }

    /// A data disk (ext4, 1 MiB of random data and its MANIFEST) and a defined, not started,
    /// guest doing `run` (workload, check, panic, shell) on it; with `agent`, the guest agent's
    /// channel too (the guest's minimal agent answers guest-ping).
    func guest(run: String, agent: Bool = false, diskSize: String = "128M") throws -> Guest {
        let name = "vbt-guest-\(UUID().uuidString.prefix(8).lowercased())"
        let folder = lab.root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let disk = folder.appendingPathComponent("data.qcow2").path
        let serialLog = folder.appendingPathComponent("serial.log").path
        let made = try runTool("/bin/bash", [Self.scripts.appendingPathComponent("make-disk.sh").path, disk, diskSize])
        guard made.status == 0 else { throw GuestError("make-disk.sh failed: \(made.err)") }
        let defined = try runTool("/bin/bash", [Self.scripts.appendingPathComponent("define-guest.sh").path, name, disk, serialLog, run],
                                  environment: ["TINYGUEST_DIR": Self.guestDirectory, "VBGUEST_AGENT": agent ? "1" : "0"])
        guard defined.status == 0 else { throw GuestError("define-guest.sh failed: \(defined.err)") }
        let guest = Guest(domain: try lab.connection.lookupDomain(name), disk: disk, serialLog: serialLog)
        guests.append(guest)
        return guest
    }

    func cleanup() {
        for guest in guests { LabDomain(domain: guest.domain, directory: URL(fileURLWithPath: guest.disk).deletingLastPathComponent()).remove() }
        guests = []
    }
}
