import ArgumentParser
import Foundation
import VBackupStore

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Free the space of chunks no point needs.",
        discussion: """
            Safe while backups run, on this host or any other sharing the store: packs are first \
            condemned, and deleted only once every backup that was running then has ended (a later \
            gc finishes what this one had to leave pending). Prune first: gc frees what pruned and \
            failed backups left behind. Objects under quarantine/ (moved there by verify) are kept. \
            In a store with object lock, packs and point objects still retained for immutable points \
            stay; gc says until when, and a later gc frees them.
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Report what would be freed; change nothing.") var dryRun = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let store = try global.openStore()
        let progress = PhaseProgress(command: "gc")
        let report = try store.collectGarbage(dryRun: dryRun, progress: progress)
        progress.finish()
        if json { return try JSONOutput.print(report) }
        let verb = dryRun ? "would free" : "freed"
        print("\(report.points) points, \(report.liveChunks) live chunks, \(report.packs) packs left")
        print("\(verb) \(report.packsDeleted) packs (\(Human.bytes(UInt64(report.bytesFreed)))) and \(report.objectsDeleted) point objects "
              + "in \(String(format: "%.1f", report.seconds)) s")
        if report.packsPending > 0 {
            print("pending: \(report.packsPending) packs (\(Human.bytes(UInt64(report.bytesPending)))) wait for running backups: "
                  + report.waitingFor.joined(separator: "; "))
        }
        if report.packsRetained > 0 || report.objectsRetained > 0 {
            let until = report.retainedUntil.map { " until \(Human.date($0))" } ?? ""
            print("retained: \(report.packsRetained) packs (\(Human.bytes(UInt64(report.bytesRetained)))) and \(report.objectsRetained) "
                  + "point objects stay under the storage's object lock\(until); a later gc frees them")
        }
        if report.partlyUsedPacks > 0 {
            print("\(report.partlyUsedPacks) packs are partly used (\(Human.bytes(UInt64(report.unusedBytesInPartlyUsedPacks)))) unused in them")
        }
    }
}
