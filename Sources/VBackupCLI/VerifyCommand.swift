import ArgumentParser
import Foundation
import VBackupStore

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify", abstract: "Re-read the store and check that points restore.",
        discussion: """
            Checks every manifest and disk index, that every chunk the points name exists, and \
            (for --sample percent of the packs, all by default) that each chunk's bytes hash to its \
            id. Damaged points are marked, so the next backup of the VM reads everything and stores \
            the lost chunks again; bad packs are moved under quarantine/ (their intact chunks are \
            copied first). Points marked earlier that now check out are reported healed.
            Exit status: 0 when nothing is damaged, 3 when something is, 1 when verify could not run.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("Only these points (comma-separated ids; repeatable).", valueName: "ids"))
    var points: [String] = []
    @Option(help: "Only this VM's points (name or UUID).") var vm: String?
    @Option(help: ArgumentHelp("Re-read this share of the packs, chosen at random.", valueName: "percent"))
    var sample: Double = 100
    @Option(help: ArgumentHelp("Only points taken within this long (e.g. 36h, 7d, 2w).", valueName: "duration"))
    var since: String?
    @Flag(help: "Report only: mark nothing, move nothing.") var noRepair = false
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        guard sample > 0 && sample <= 100 else { throw ValidationError("--sample must be a percentage in (0, 100]") }
        if let since, DurationText.seconds(since) == nil { throw ValidationError("--since: '\(since)' is not a duration like 90m, 36h, 7d or 2w") }
    }

    func run() throws {
        let store = try global.openStore()
        let ids = points.flatMap { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        let options = VerifyOptions(
            pointIDs: ids.isEmpty ? nil : ids, vm: vm,
            since: since.flatMap(DurationText.seconds).map { Date().addingTimeInterval(-$0) },
            samplePercent: sample, repair: !noRepair)
        let progress = PhaseProgress(command: "verify")
        let report = try store.verify(options, progress: progress)
        progress.finish()
        if json { try JSONOutput.print(report) } else { printReport(report) }
        if !report.ok { throw ExitCode(3) }
    }

    private func printReport(_ report: VerifyReport) {
        let sampled = report.packsSkipped > 0 ? " (sampled: \(report.packsSkipped) packs not read)" : ""
        print("verified \(report.pointsChecked) points: \(report.packsChecked) packs, \(report.chunksChecked) chunks, "
              + "\(Human.bytes(UInt64(report.bytesRead))) in \(String(format: "%.1f", report.seconds)) s "
              + "(\(String(format: "%.0f", report.megabytesPerSecond)) MB/s)\(sampled)")
        for object in report.badObjects {
            print("bad object \(object.key): \(object.reason)\(object.movedTo.map { "; moved to \($0)" } ?? "")")
        }
        for damage in report.damaged {
            print("DAMAGED point \(damage.pointID) (\(damage.vmName)): \(damage.chunks.count) chunks, \(damage.objects.count) objects")
            for chunk in damage.chunks.prefix(20) {
                let ranges = chunk.ranges.map { "\($0.offset)+\($0.length)" }.joined(separator: ",")
                print("  \(chunk.disk) bytes \(ranges): chunk \(chunk.id.prefix(16)) \(chunk.reason)")
            }
            if damage.chunks.count > 20 { print("  ... and \(damage.chunks.count - 20) more chunks") }
            for object in damage.objects { print("  \(object.key): \(object.reason)") }
        }
        for id in report.healed { print("healed point \(id)") }
        print(report.ok ? "ok" : "damage found: the next backup of each damaged VM reads it in full to heal it")
    }
}

/// Durations written like `90s`, `30m`, `36h`, `7d`, `2w`.
enum DurationText {
    static func seconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        guard let unit = text.last, let scale = units[unit], let value = Double(text.dropLast()), value >= 0 else { return nil }
        return value * scale
    }
}
