import ArgumentParser
import Foundation
import ResourceControl
import VBackupPolicy
import VBackupModel
import VBackupStore

struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy", abstract: "Copy restore points to another store (an off-site copy).",
        discussion: """
            Sends only the chunks the target lacks. A point the target already has is skipped, so \
            running the same copy again finishes an interrupted one (Ctrl-C, a kill, a lost \
            connection) without sending again what arrived: the target is checkpointed every 128 \
            MiB sent. With --immutable-for, each copied point is written under S3 Object Lock. A point verify marked damaged in the source is refused. The source is --from \
            (default: --store, then the configured store) and is unlocked with --key-file and \
            --passphrase-file; the target has its own --to-key-file and --to-passphrase-file.
            Exit status: 0 when every point is in the target, 1 when any was refused or failed or \
            the copy was interrupted (what was copied stays copied), 64 for a usage error.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("The source store (default: --store, then the configured store).", valueName: "path|url"))
    var from: String?
    @Option(help: ArgumentHelp("The target store; it must exist (vbackup store init).", valueName: "path|url"))
    var to: String
    @Option(help: ArgumentHelp("Only this VM's points (name or UUID; repeatable).", valueName: "vm"))
    var vm: [String] = []
    @Option(help: ArgumentHelp("Only these points (comma-separated ids; repeatable).", valueName: "ids"))
    var points: [String] = []
    @Option(help: ArgumentHelp("Cap on the bytes written to the target, e.g. 50MiB/s (default: off).", valueName: "rate"))
    var bandwidth: String?
    @Option(help: ArgumentHelp(
        "Make each copied point immutable in the target for this long (30d, 12h): S3 Object Lock keeps it "
            + "from everyone, prune and gc included. The target must have object lock (store init --object-lock).",
        valueName: "duration"))
    var immutableFor: String?
    @Option(help: ArgumentHelp(
        "Key file of an encrypted target kept outside it (default: $VBACKUP_TO_KEY_FILE, else the target's keys/).",
        valueName: "path"))
    var toKeyFile: String?
    @Option(help: ArgumentHelp(
        "File whose first line is the target's passphrase (default: $VBACKUP_TO_PASSPHRASE_FILE, then "
            + "$VBACKUP_TO_PASSPHRASE, then a prompt on the terminal).", valueName: "path"))
    var toPassphraseFile: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if let bandwidth {
            do { _ = try Bandwidth(parsing: bandwidth) } catch { throw ValidationError("--bandwidth: \(error)") }
        }
        _ = try immutablePeriod()
    }

    /// `--immutable-for` in seconds (`ImmutableFor`).
    private func immutablePeriod() throws -> TimeInterval? { try ImmutableFor.seconds(immutableFor) }

    func run() throws {
        let source = try openSource()
        let target = try openTarget()
        let ids = points.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        let selected = try PointCopier.select(in: source, vms: vm, pointIDs: ids)
        let limit = try bandwidth.map { try Bandwidth(parsing: $0).limit } ?? nil
        let display = CopyDisplay(enabled: !json)
        let report = try CopyRun.copy(selected, from: source, to: target, bytesPerSecond: limit, immutableFor: try immutablePeriod(),
                                      isCancelled: { Interruption.isRequested }, progress: display.show)
        if json { try JSONOutput.print(report) } else { CopyDisplay.printSummary(report) }
        if !report.ok { throw CopyIncomplete(report: report) }
    }

    private func openSource() throws -> Store {
        let location = try from ?? global.storeLocation().location
        let adapter = try StoreURL.adapter(for: location, create: false)
        return try Store.open(adapter: adapter, cacheDirectory: global.cacheDirectory, keys: global.keySource(for: adapter.location))
    }

    private func openTarget() throws -> Store {
        try TargetStore.open(to, keyFile: toKeyFile, passphraseFile: toPassphraseFile, cacheDirectory: global.cacheDirectory)
    }
}

/// A copy's target store, unlocked with its own key file and passphrase: never the source's
/// variables, so a copy to a store with another passphrase cannot silently try the wrong one.
/// `vbackup copy` and the agent's copy jobs open it the same way.
enum TargetStore {
    static func open(_ location: String, keyFile: String?, passphraseFile: String?, cacheDirectory: URL) throws -> Store {
        let adapter = try StoreURL.adapter(for: location, create: false)
        let environment = ProcessInfo.processInfo.environment
        let keyPath = (keyFile ?? environment["VBACKUP_TO_KEY_FILE"]).flatMap { $0.isEmpty ? nil : $0 }
        let keys = KeySource(keyFile: keyPath.map { URL(fileURLWithPath: $0) }) { [location = adapter.location] in
            try passphrase(file: passphraseFile, location: location)
        }
        return try Store.open(adapter: adapter, cacheDirectory: cacheDirectory, keys: keys)
    }

    static func passphrase(file: String?, location: String) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let path = file ?? environment["VBACKUP_TO_PASSPHRASE_FILE"].flatMap({ $0.isEmpty ? nil : $0 }) {
            return try Passphrase.fromFile(path)
        }
        if let value = environment["VBACKUP_TO_PASSPHRASE"], !value.isEmpty { return value }
        return try Passphrase.fromTerminal(
            "Passphrase for the target \(location): ", confirm: false,
            howToPass: "--to-passphrase-file PATH, $VBACKUP_TO_PASSPHRASE_FILE or $VBACKUP_TO_PASSPHRASE")
    }
}

/// A copy that did not put every point in the target: one line for stderr, exit 1.
struct CopyIncomplete: Error, CustomStringConvertible {
    let report: CopyReport

    var description: String {
        var parts: [String] = []
        if !report.refused.isEmpty { parts.append("\(report.refused.count) refused (\(report.refused.map(\.id).joined(separator: ", ")))") }
        if !report.failed.isEmpty { parts.append("\(report.failed.count) failed: \(report.failed[0].id): \(report.failed[0].reason)") }
        if report.interrupted { parts.append("interrupted; run the same copy again to resume") }
        return "copy incomplete: " + parts.joined(separator: "; ")
    }
}

/// A copy with its bandwidth cap applied through ResourceControl's governor (a budget of its
/// own: a copy's limit is on what it writes to the target, not on the host's disk reads).
enum CopyRun {
    static func copy(
        _ points: [PointManifest], from source: Store, to target: Store, bytesPerSecond: UInt64?, immutableFor: TimeInterval?,
        isCancelled: @escaping @Sendable () -> Bool, progress: @escaping @Sendable (CopyProgress) -> Void
    ) throws -> CopyReport {
        let governor = BandwidthGovernor(hostLimit: nil)
        let budget = governor.register(name: "copy", limit: bytesPerSecond)
        defer { budget.finish() }
        var options = CopyOptions()
        options.throttle = { bytes in _ = budget.admit(bytes, isCancelled: isCancelled) }
        options.isCancelled = isCancelled
        options.progress = progress
        options.immutableFor = immutableFor
        return try PointCopier(from: source, to: target, options: options).copy(points)
    }
}
