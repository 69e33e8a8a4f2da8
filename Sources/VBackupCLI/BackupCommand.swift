import ArgumentParser
import BackupEngine
import Foundation
import LibvirtClient
import StorageAdapter
import VBackupModel
import VBackupPolicy
import VBackupStore

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up VMs: full the first time, then only what changed (dirty bitmaps).",
        discussion: "Every point is complete on its own; restoring it never replays a chain.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "VM names or UUIDs.") var vms: [String] = []
    @Flag(help: "Back up every VM on the host.") var all = false
    @Flag(help: "Read every disk in full even where an incremental is possible.") var full = false
    @Option(help: ArgumentHelp(
        "Make the points immutable for this long (30d, 12h): S3 Object Lock keeps them from everyone, "
            + "prune and gc included, until then. The store must have object lock (store init --object-lock).",
        valueName: "duration"))
    var immutableFor: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if vms.isEmpty && !all { throw ValidationError("name at least one VM, or use --all") }
        if !vms.isEmpty && all { throw ValidationError("name VMs or use --all, not both") }
        _ = try immutablePeriod()
    }

    /// `--immutable-for` in seconds (`ImmutableFor`).
    private func immutablePeriod() throws -> TimeInterval? { try ImmutableFor.seconds(immutableFor) }

    func run() throws {
        let connection = try LibvirtConnection(uri: global.connect)
        let store = try global.openStore(createDefault: true)
        let immutablePeriod = try immutablePeriod()
        if immutablePeriod != nil && !store.canKeepImmutablePoints {
            throw StoreError.noObjectLock(store.adapter.location)
        }
        let names = all ? try Discovery(connection: connection).domainNames() : vms
        var options = BackupOptions()
        options.forceFull = full
        options.immutableFor = immutablePeriod
        options.progress = json ? SilentProgress() : TerminalProgress()
        options.isCancelled = { Interruption.isRequested }
        let runner = BackupRunner(connection: connection, store: store, options: options)
        var results: [BackupReport] = []
        for name in names {
            if Interruption.isRequested { break }
            let started = Date()
            let counter = store.adapter as? any RequestCountingStorageAdapter
            let before = counter?.requestTally
            let retentionBefore = store.retentionRequests
            do {
                let point = try runner.backup(vm: name)
                let requests = counter.map { $0.requestTally.since(before ?? RequestTally()) }
                results.append(BackupReport(vm: name, ok: true, point: PointSummary(point), seconds: Date().timeIntervalSince(started),
                                            storageRequests: requests,
                                            retentionRequests: point.immutableUntil.map { _ in store.retentionRequests - retentionBefore },
                                            error: nil))
                if !json { printSummary(point, seconds: Date().timeIntervalSince(started), requests: requests) }
            } catch {
                results.append(BackupReport(vm: name, ok: false, point: nil, seconds: Date().timeIntervalSince(started),
                                            storageRequests: nil, retentionRequests: nil, error: OneLine.describe(error)))
                FileHandle.standardError.write(Data("vbackup: \(OneLine.describe(error))\n".utf8))
            }
        }
        if json { try JSONOutput.print(results) }
        if results.contains(where: { !$0.ok }) || results.count < names.count { throw ExitCode.failure }
    }

    private func printSummary(_ point: PointManifest, seconds: Double, requests: RequestTally?) {
        print("\(point.vmName): point \(point.id) (\(point.consistency.rawValue)) in \(String(format: "%.1f", seconds)) s")
        for disk in point.disks {
            let reason = disk.fullReason.map { " — \($0)" } ?? ""
            print("  \(disk.target): \(disk.mode.rawValue)\(reason); read \(Human.bytes(disk.bytesRead)) at \(Human.rate(disk.bytesRead, seconds: seconds)), stored \(Human.bytes(disk.bytesStored)) new (\(disk.chunksNew) new chunks, \(disk.chunksReused) reused)")
        }
        if let note = point.consistencyNote { print("  consistency: \(note)") }
        if let requests {
            print("  storage: \(requests.total) requests (\(requests.puts) PUT, \(requests.gets) GET, \(requests.lists) LIST), "
                + "\(Human.bytes(UInt64(requests.bytesSent))) sent for \(Human.bytes(point.bytesStored)) stored")
        }
        if let until = point.immutableUntil { print("  immutable until \(Human.date(until)) (S3 Object Lock)") }
    }
}

/// One VM's result in `backup --json`.
struct BackupReport: Encodable {
    var vm: String
    var ok: Bool
    var point: PointSummary?
    var seconds: Double
    /// The storage requests this backup made (S3 stores: a cost measure), nil for local stores.
    var storageRequests: RequestTally?
    /// Immutable points: the retention extensions the backup made for packs it reused (each
    /// is also counted in `storageRequests`); nil for an ordinary point.
    var retentionRequests: Int?
    var error: String?
}
