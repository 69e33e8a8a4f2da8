import Foundation
import LibvirtClient
import VBackupModel

/// An instantly restored VM that runs, and still reads the parts of its disks it has not
/// written from this process's export. `pull` makes it independent; until `pull` returns the
/// VM must not lose the export, which is why a failure in between removes the VM rather than
/// leaving it to fail on its next read.
public final class InstantRestoreSession: @unchecked Sendable {
    struct Disk {
        var target: String
        var path: String
        var virtualSize: UInt64
    }

    public let pointID: String
    public let vmName: String
    /// The new domain's name.
    public let domainName: String
    /// Seconds from the command's start until the domain ran.
    public let runningAfter: Double
    private let point: PointManifest
    private let domain: LibvirtDomain
    private let disks: [Disk]
    private let workspace: InstantWorkspace
    private let options: InstantRestoreOptions

    init(point: PointManifest, domain: LibvirtDomain, disks: [Disk], workspace: InstantWorkspace,
         options: InstantRestoreOptions, runningAfter: Double) {
        self.point = point
        pointID = point.id
        vmName = point.vmName
        domainName = domain.name
        self.domain = domain
        self.disks = disks
        self.workspace = workspace
        self.options = options
        self.runningAfter = runningAfter
    }

    /// Block-pulls every disk (all at once: QEMU runs the jobs side by side), reporting one
    /// progress total, until each overlay holds everything and the domain no longer reads the
    /// export; then checks that no backing remains anywhere, and ends the export. Polls
    /// `discardRequested` and the export's read failures meanwhile; either removes the VM and
    /// everything made for it, and throws `InstantRestoreError` saying so. When the guest shuts
    /// down before the end, the rest is copied offline.
    public func pull(discardRequested: () -> Bool) throws -> InstantRestoreResult {
        var offline = false
        let streamed: [String: UInt64]
        do {
            (streamed, offline) = try follow(discardRequested: discardRequested)
            if offline {
                options.progress.note("\(domainName) stopped before its disks were local: copying the rest offline")
                for disk in disks where try InstantOverlay.info(of: disk.path).backing != nil {
                    try InstantOverlay.makeLocalOffline(disk.path)
                }
            }
            try checkReadFailures()
            try checkLocal()
        } catch let error as InstantRestoreError {
            throw error
        } catch {
            throw abandon { .pullFailed(domain: self.domainName, reason: oneLine(error), removed: $0) }
        }
        let localAfter = Date().timeIntervalSince(options.startedAt)
        workspace.endExport()
        let result = try disks.map { disk in
            InstantRestoreResult.Disk(target: disk.target, path: disk.path, virtualSize: disk.virtualSize,
                                      bytesPulled: streamed[disk.target] ?? 0,
                                      bytesAllocated: try InstantOverlay.info(of: disk.path).allocated)
        }
        return InstantRestoreResult(pointID: point.id, vmName: point.vmName, pointCreatedAt: point.createdAt, definedAs: domainName,
                                    runningAfterSeconds: runningAfter, localAfterSeconds: localAfter, disks: result,
                                    finishedOffline: offline)
    }

    /// Starts the pulls and polls them until none is left; returns the bytes each streamed,
    /// and whether the domain stopped first.
    private func follow(discardRequested: () -> Bool) throws -> ([String: UInt64], offline: Bool) {
        do {
            for disk in disks { try domain.blockPull(disk: disk.target, bytesPerSecond: options.pullBytesPerSecond) }
        } catch where hasStopped() {
            return ([:], true)
        }
        var finished: [String: UInt64] = [:]
        var lastSeen: [String: BlockJobInfo] = [:]
        var reported: UInt64 = 0
        options.progress.diskStarted("pull", total: disks.reduce(0) { $0 + $1.virtualSize })
        defer { options.progress.diskFinished("pull") }
        while finished.count < disks.count {
            if discardRequested() { throw abandon { .discarded(domain: self.domainName, removed: $0) } }
            try checkReadFailures()
            var total: UInt64 = 0
            do {
                for disk in disks {
                    if finished[disk.target] == nil, let info = try domain.blockJobInfo(disk: disk.target) {
                        lastSeen[disk.target] = info
                        total += info.cur
                    } else {
                        finished[disk.target] = finished[disk.target] ?? lastSeen[disk.target]?.end ?? disk.virtualSize
                        total += finished[disk.target]!
                    }
                }
            } catch where hasStopped() {
                return (finished, true)
            }
            if total > reported { options.progress.advanced(total - reported) }
            reported = max(reported, total)
            if finished.count < disks.count { usleep(useconds_t(options.pollInterval * 1_000_000)) }
        }
        return (finished, try !domain.isActive)
    }

    /// Whether the domain has stopped, after a query failed. libvirt may still be handling
    /// QEMU's exit when the query fails ("Unable to read from monitor"), so it is given a few
    /// seconds to say so.
    private func hasStopped(within seconds: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if (try? domain.isActive) == false { return true }
            usleep(100_000)
        } while Date() < deadline
        return false
    }

    private func checkReadFailures() throws {
        guard let failures = workspace.export?.readErrors, !failures.isEmpty else { return }
        throw abandon { .storeReadFailed(domain: self.domainName, failures: failures, removed: $0) }
    }

    /// The end state, checked while the export still runs: the live domain reads no backing
    /// (libvirt may take a moment after the job vanished), the persistent definition names
    /// none, and no overlay's header does.
    private func checkLocal() throws {
        if try domain.isActive {
            var backed = try InstantOverlay.backedTargets(liveXML: domain.xml())
            for _ in 0..<20 where !backed.isEmpty {
                usleep(100_000)
                backed = try InstantOverlay.backedTargets(liveXML: domain.xml())
            }
            if let target = backed.sorted().first {
                throw abandon { .pullFailed(domain: self.domainName, reason: "the pull of \(target) ended but the disk still reads from the export",
                                            removed: $0) }
            }
        }
        if let target = try InstantOverlay.backedTargets(liveXML: domain.xml(inactive: true)).sorted().first {
            throw abandon { .pullFailed(domain: self.domainName, reason: "the definition of \(target) still names a backing", removed: $0) }
        }
        for disk in disks {
            if let backing = try InstantOverlay.info(of: disk.path).backing {
                throw abandon { .pullFailed(domain: self.domainName, reason: "\(disk.path) still has the backing \(backing)", removed: $0) }
            }
        }
    }

    /// Removes the VM and everything made for it; the error then says what went.
    private func abandon(_ error: ([String]) -> InstantRestoreError) -> InstantRestoreError {
        error(workspace.discard())
    }
}

/// An error from any layer as one line.
private func oneLine(_ error: Error) -> String {
    "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
}
