import ArgumentParser
import BackupEngine
import Foundation
import LibvirtClient
import Synchronization

/// `vbackup restore vm VM --instant`: defines and starts `--as` (default `VM-restored`) on
/// overlays over the point's NBD export, says "running after X s" as soon as it runs, shows
/// the pull's progress, and says "local after Y s" once the VM no longer needs this process.
struct InstantRestoreRun {
    let command: RestoreCommand.VM

    func run() throws {
        let interrupts = InstantInterrupts.install()
        try refuseConflicts()
        let store = try command.global.openStore()
        let connection: LibvirtConnection
        do {
            connection = try LibvirtConnection(uri: command.global.connect)
        } catch {
            throw InstantRefusal("--instant needs a libvirt connection: \(error)")
        }
        var options = InstantRestoreOptions()
        options.pointID = command.point
        options.at = command.at.flatMap(RestoreCommand.VM.parseDate)
        options.directory = URL(fileURLWithPath: command.to).standardizedFileURL
        options.newName = command.newName
        options.pullBytesPerSecond = (command.pullLimit ?? 0) << 20
        options.progress = command.json ? SilentProgress() : PullProgress()
        options.isCancelled = { interrupts.anyReceived }

        let session = try InstantRestore(store: store, connection: connection, options: options).start(vm: command.vm)
        interrupts.markRunning()
        if !command.json {
            say("running after \(Self.seconds(session.runningAfter)) s: \(session.domainName), from point \(session.pointID) of \(session.vmName)")
        }
        let result = try session.pull { interrupts.discardRequested(domain: session.domainName) }
        if command.json { return try JSONOutput.print(result) }
        say("local after \(Self.seconds(result.localAfterSeconds)) s: \(result.definedAs) no longer needs vbackup")
        for disk in result.disks {
            say("  \(disk.target): \(disk.path) (qcow2, \(Human.bytes(disk.virtualSize)), \(Human.bytes(disk.bytesAllocated)) on disk)")
        }
    }

    /// Options that cannot go with --instant: one line, usage exit status, before anything is opened.
    private func refuseConflicts() throws {
        let conflict: String? =
            if command.format == "raw" { "--instant runs the VM on qcow2 overlays: it cannot restore --format raw" }
            else if command.overwrite { "--instant never replaces files: drop --overwrite, or choose another --as or --to" }
            else if command.allowDamaged { "--instant cannot run a damaged point (the guest would read errors): restore it without --instant" }
            else { nil }
        guard let conflict else { return }
        FileHandle.standardError.write(Data("vbackup: \(conflict)\n".utf8))
        throw ExitCode(64)
    }

    /// Writes a line at once (unbuffered): scripts and tests wait for "running after" while
    /// the pull goes on.
    private func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func seconds(_ value: Double) -> String { String(format: "%.1f", value) }
}

/// Why an instant restore cannot even begin (no libvirt): one line, exit 1.
struct InstantRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Ctrl-C and SIGTERM during an instant restore. Before the VM runs, any signal cancels (and
/// everything made is removed). Once it runs, the VM reads from this process until the pull is
/// done, so the first signal only says so; a second within `window` seconds discards the VM.
/// Replaces `Interruption`'s handlers, whose second signal would exit at once and strand the VM.
final class InstantInterrupts: @unchecked Sendable {
    private static let received = Atomic<Int>(0)
    let window: TimeInterval = 5
    private let lock = NSLock()
    private var handled = 0
    private var warnedAt: Date?
    private var cancelledBeforeRunning = false

    static func install() -> InstantInterrupts {
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { _ in _ = InstantInterrupts.received.add(1, ordering: .relaxed) }
        }
        return InstantInterrupts()
    }

    var anyReceived: Bool { Self.received.load(ordering: .relaxed) > 0 }

    /// The VM runs (called before "running after" is printed): from now on a first signal
    /// only warns. One that came before, while the domain was starting, still cancels.
    func markRunning() {
        lock.withLock {
            handled = Self.received.load(ordering: .relaxed)
            cancelledBeforeRunning = handled > 0
        }
    }

    /// Polled during the pull.
    func discardRequested(domain: String) -> Bool {
        lock.withLock {
            if cancelledBeforeRunning { return true }
            let count = Self.received.load(ordering: .relaxed)
            guard count > handled else { return false }
            let presses = count - handled
            handled = count
            if presses > 1 { return true }
            if let warnedAt, Date().timeIntervalSince(warnedAt) <= window { return true }
            warnedAt = Date()
            FileHandle.standardError.write(Data("""
                vbackup: \(domain) still reads its disks from this process until they are local: vbackup keeps going. \
                Press Ctrl-C again within \(Int(window)) s to destroy and undefine \(domain) and delete its disks.

                """.utf8))
            return false
        }
    }
}

/// The pull's progress: a bar on a terminal, otherwise a line at each quarter (for logs).
final class PullProgress: ProgressSink, @unchecked Sendable {
    private let bar: TerminalProgress? = isatty(STDERR_FILENO) == 1 ? TerminalProgress() : nil
    private let lock = NSLock()
    private var total: UInt64 = 1
    private var done: UInt64 = 0
    private var quarter = 0

    func diskStarted(_ target: String, total: UInt64) {
        bar?.diskStarted(target, total: total)
        lock.withLock { self.total = max(total, 1) }
    }

    func advanced(_ bytes: UInt64) {
        if let bar { return bar.advanced(bytes) }
        lock.withLock {
            done += bytes
            let now = Int(done * 4 / total)
            guard now > quarter, now < 4 else { return }
            quarter = now
            FileHandle.standardError.write(Data("pull: \(now * 25)% of \(Human.bytes(total))\n".utf8))
        }
    }

    func diskFinished(_ target: String) { bar?.diskFinished(target) }

    func note(_ message: String) {
        if let bar { return bar.note(message) }
        FileHandle.standardError.write(Data("note: \(message)\n".utf8))
    }
}
