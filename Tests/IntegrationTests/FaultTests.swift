import BackupEngine
import Foundation
import LocalStorage
import VBackupModel
@testable import VBackupStore
import XCTest

/// Crashes and faults with real processes: SIGKILLed backups and GC runs, rotten objects, a
/// full disk, garbage metadata. After each, verify passes (or names exactly what is damaged),
/// every earlier point still restores, and the next backup works.
final class FaultTests: XCTestCase {
    var lab: Lab!

    override func setUpWithError() throws { lab = try Lab() }
    override func tearDown() { lab?.cleanup() }

    private var environment: [String: String] { ["VBACKUP_CACHE": lab.cachePath.path] }

    private func vbackup(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runTool(vbackupBinary, arguments + ["--store", lab.storePath.path], environment: environment)
    }

    func testTwentyBackupsKilledAtRandomMomentsLeaveAStoreThatVerifiesAndRestores() throws {
        let vm = try lab.domain([.init(target: "vda", sizeMiB: 96)])
        let random = try lab.randomFile(mib: 16)
        try vm.write("vda", offset: 0, length: 16 * .mib, from: random)
        var points = [try backupWithRawReference(vm, tag: "start")]
        var generator = SystemRandomNumberGenerator()
        var window = 1.5, killed = 0
        for attempt in 0..<20 {
            try vm.write("vda", offset: UInt64(attempt % 10) * 8 * .mib, length: 2 * .mib, pattern: UInt8(0x20 + attempt))
            let delay = Double.random(in: 0...window, using: &generator)
            let args = ["backup", vm.domain.name, "--store", lab.storePath.path] + (attempt % 3 == 0 ? ["--full"] : [])
            // A backup that finished before its kill narrows the window, so the kills land mid-run.
            if try runAndKill(vbackupBinary, args, after: delay) { killed += 1 } else { window = max(0.1, delay * 0.8) }

            let verify = try vbackup(["verify", "--json"])
            XCTAssertEqual(verify.status, 0, "attempt \(attempt) (killed after \(delay) s): \(verify.out) \(verify.err)")
            try lab.store.refresh()
            for (point, references) in points { try assertStoreHolds(point, references) }
            points.append(try backupWithRawReference(vm, tag: "after-\(attempt)"))
        }
        XCTAssertGreaterThanOrEqual(killed, 12, "most kills landed while the backup ran")
        // The last points through the real restore command too.
        for (point, references) in points.suffix(2) {
            let target = lab.root.appendingPathComponent("restore-\(point.id)").path
            let restore = try vbackup(["restore", "vm", vm.domain.name, "--point", point.id, "--to", target, "--format", "raw"])
            XCTAssertEqual(restore.status, 0, restore.err)
            let restored = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: target).first { $0.hasSuffix(".raw") })
            XCTAssertTrue(FileManager.default.contentsEqual(atPath: target + "/" + restored, andPath: references["vda"]!))
        }
    }

    func testTenRottenPacksAreFoundNamedAndHealedByTheNextBackup() throws {
        // One pack per chunk, so ten flipped packs are ten distinct damaged chunks.
        let storePath = lab.root.appendingPathComponent("rot-store")
        let store = try Store.create(adapter: LocalStorageAdapter(root: storePath, create: true),
                                     cacheDirectory: lab.cachePath, packSize: 1)
        let vm = try lab.domain()
        for index in 0..<24 { try vm.write("vda", offset: UInt64(index) * 2 * .mib, length: 256 << 10, pattern: UInt8(index + 1)) }
        let first = try BackupRunner(connection: lab.connection, store: store, options: BackupOptions()).backup(vm: vm.domain.name)
        for index in 0..<8 { try vm.write("vda", offset: 50 * .mib + UInt64(index) * .mib, length: 256 << 10, pattern: UInt8(0x80 + index)) }
        let (second, references) = try pausedCopy(vm, tag: "second") {
            try BackupRunner(connection: lab.connection, store: store, options: BackupOptions()).backup(vm: vm.domain.name)
        }
        XCTAssertEqual(second.disks[0].mode, .incremental)

        let ids = try store.readDiskIndex(second.disks[0]).chunks.filter { !$0.isZero }
        var rotted: [String] = []
        for id in Set(ids).shuffled() where rotted.count < 10 {
            let location = try XCTUnwrap(try store.catalog.locations(of: id).first)
            let key = StoreFormat.packKey(location.pack)
            guard !rotted.contains(key) else { continue }
            try flipByte(in: storePath.appendingPathComponent(key).path, at: Int(location.offset) + 12)
            rotted.append(key)
        }
        XCTAssertEqual(rotted.count, 10)
        let verify = try runTool(vbackupBinary, ["verify", "--json", "--store", storePath.path], environment: environment)
        XCTAssertEqual(verify.status, 3, verify.err)
        let report = try decoder.decode(VerifyReport.self, from: Data(verify.out.utf8))
        XCTAssertEqual(Set(report.badObjects.map(\.key)), Set(rotted), "all ten found, nothing else blamed")
        XCTAssertTrue(report.badObjects.allSatisfy { $0.movedTo != nil })
        XCTAssertEqual(report.badChunks, 10)
        XCTAssertTrue(Set(report.damaged.map(\.pointID)).contains(second.id))
        XCTAssertTrue(Set(report.damaged.map(\.pointID)).isSubset(of: [first.id, second.id]))

        let listed = try runTool(vbackupBinary, ["points", "--json", "--store", storePath.path], environment: environment)
        let flags = (try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [[String: Any]])?
            .reduce(into: [String: Bool]()) { $0[$1["id"] as! String] = $1["damaged"] as? Bool }
        XCTAssertEqual(flags?[second.id], true, "points shows the damage verify marked")
        let restore = try runTool(vbackupBinary, ["restore", "vm", vm.domain.name, "--point", second.id, "--store", storePath.path,
                                                  "--to", lab.root.appendingPathComponent("refused").path], environment: environment)
        XCTAssertEqual(restore.status, 1)
        XCTAssertTrue(restore.err.contains("damaged") && restore.err.contains("vda bytes"), restore.err)

        // --allow-damaged writes what is intact, zeros where chunks are lost, and lists those.
        let partial = lab.root.appendingPathComponent("partial").path
        let allowed = try runTool(vbackupBinary, ["restore", "vm", vm.domain.name, "--point", second.id, "--store", storePath.path,
                                                  "--to", partial, "--format", "raw", "--allow-damaged", "--json"], environment: environment)
        XCTAssertEqual(allowed.status, 3, allowed.err)
        let result = try decoder.decode(RestoreResult.self, from: Data(allowed.out.utf8))
        let expectedRanges = report.damaged.first { $0.pointID == second.id }!.chunks.flatMap { chunk in
            chunk.ranges.map { "\($0.offset)+\($0.length)" }
        }
        XCTAssertEqual(Set(result.damaged.map { "\($0.offset)+\($0.length)" }), Set(expectedRanges))
        let reference = try Data(contentsOf: URL(fileURLWithPath: references["vda"]!))
        var restored = try Data(contentsOf: URL(fileURLWithPath: result.disks[0].path))
        for range in result.damaged {
            let span = Int(range.offset)..<Int(range.offset + range.length)
            XCTAssertTrue(restored[span].allSatisfy { $0 == 0 }, "lost range \(range) reads as zeros")
            restored.replaceSubrange(span, with: reference[span])
        }
        XCTAssertTrue(restored == reference, "everything else is restored exactly")

        let heal = try runTool(vbackupBinary, ["backup", vm.domain.name, "--store", storePath.path, "--json"], environment: environment)
        XCTAssertEqual(heal.status, 0, heal.err)
        XCTAssertTrue(heal.out.contains("marked damaged by verify"), "read in full, saying why: \(heal.out)")
        let after = try runTool(vbackupBinary, ["verify", "--json", "--store", storePath.path], environment: environment)
        XCTAssertEqual(after.status, 0, after.out)
        let healed = try decoder.decode(VerifyReport.self, from: Data(after.out.utf8))
        XCTAssertEqual(Set(healed.healed), Set(report.damaged.map(\.pointID)))
        try store.refresh()
        try assertStoreHolds(second, references, store: store)
    }

    func testABackupThatFillsTheDiskFailsCleanlyAndGCReclaimsItsSpace() throws {
        let mount = lab.root.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        let mounted = try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=48m", "tmpfs", mount.path])
        guard mounted.status == 0 else { throw XCTSkip("cannot mount a small tmpfs here: \(mounted.err)") }
        defer { _ = try? runTool("/bin/umount", ["-l", mount.path]) }
        let storePath = mount.appendingPathComponent("store")
        XCTAssertEqual(try runTool(vbackupBinary, ["store", "init", "--store", storePath.path] + initArguments, environment: environment).status, 0)
        let vm = try lab.domain([.init(target: "vda", sizeMiB: 128)])
        let random = try lab.randomFile(mib: 96)
        try vm.write("vda", offset: 0, length: 8 * .mib, from: random)
        let (first, references) = try pausedCopy(vm, tag: "fits") {
            let backup = try runTool(vbackupBinary, ["backup", vm.domain.name, "--store", storePath.path, "--json"], environment: environment)
            XCTAssertEqual(backup.status, 0, backup.err)
            return try XCTUnwrap(Store.open(adapter: LocalStorageAdapter(root: storePath, create: false), cacheDirectory: lab.cachePath).listPoints().last)
        }
        let usedBefore = try usedBytes(mount.path)
        try vm.write("vda", offset: 16 * .mib, length: 96 * .mib, from: random)
        let failed = try runTool(vbackupBinary, ["backup", vm.domain.name, "--store", storePath.path], environment: environment)
        XCTAssertEqual(failed.status, 1)
        XCTAssertEqual(failed.err.split(separator: "\n").count, 1, "one line: \(failed.err)")
        XCTAssertTrue(failed.err.contains("No space left on device"), failed.err)

        let verify = try runTool(vbackupBinary, ["verify", "--json", "--store", storePath.path], environment: environment)
        XCTAssertEqual(verify.status, 0, verify.out + verify.err)
        let store = try Store.open(adapter: LocalStorageAdapter(root: storePath, create: false), cacheDirectory: lab.cachePath)
        XCTAssertEqual(try store.listPoints().map(\.id), [first.id], "no partial point")
        try assertStoreHolds(first, references, store: store)
        XCTAssertGreaterThan(try usedBytes(mount.path), usedBefore + 8 * .mib, "the failed attempt left packs behind")
        let gc = try runTool(vbackupBinary, ["gc", "--json", "--store", storePath.path], environment: environment)
        XCTAssertEqual(gc.status, 0, gc.err)
        XCTAssertLessThanOrEqual(try usedBytes(mount.path), usedBefore + .mib, "GC gave the space back")
        try assertStoreHolds(first, references, store: store)
    }

    func testGarbageManifestsAndIndexesGiveOneLineErrorsNamingTheFile() throws {
        let vm = try lab.domain()
        try vm.write("vda", offset: 0, length: .mib, pattern: 0x11)
        let first = try lab.backup(vm)
        try vm.write("vda", offset: 4 * .mib, length: .mib, pattern: 0x12)
        let second = try lab.backup(vm)
        let manifestKey = StoreFormat.manifestKey(vmUUID: first.vmUUID, pointID: first.id)
        try Data("{\"id\":".utf8).write(to: lab.storePath.appendingPathComponent(manifestKey))
        try Data(repeating: 0x41, count: 100).write(to: lab.storePath.appendingPathComponent(second.disks[0].indexKey))
        let fresh = ["VBACKUP_CACHE": lab.root.appendingPathComponent("fresh-cache").path]

        let points = try runTool(vbackupBinary, ["points", "--json", "--store", lab.storePath.path], environment: fresh)
        XCTAssertEqual(points.status, 0, points.err)
        let listed = try JSONSerialization.jsonObject(with: Data(points.out.utf8)) as? [[String: Any]]
        XCTAssertEqual(listed?.compactMap { $0["id"] as? String }, [second.id], "the unreadable point is left out")
        XCTAssertTrue(points.err.contains("warning: \(manifestKey) is unreadable"), points.err)
        for (point, key) in [(first.id, manifestKey), (second.id, second.disks[0].indexKey)] {
            let restore = try runTool(vbackupBinary, ["restore", "vm", vm.domain.name, "--point", point, "--store", lab.storePath.path,
                                                      "--to", lab.root.appendingPathComponent("r-\(point)").path], environment: fresh)
            XCTAssertEqual(restore.status, 1)
            XCTAssertEqual(restore.err.split(separator: "\n").count, 1, restore.err)
            XCTAssertTrue(restore.err.contains(key), "names \(key): \(restore.err)")
        }
        let verify = try runTool(vbackupBinary, ["verify", "--store", lab.storePath.path], environment: fresh)
        XCTAssertEqual(verify.status, 3)
        XCTAssertTrue(verify.out.contains(manifestKey) && verify.out.contains(second.disks[0].indexKey), verify.out)
    }

    // MARK: - Helpers

    private var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    private var initArguments: [String] { ["--encryption", "none"] }

    /// Starts a process and SIGKILLs it after `delay` seconds; returns whether the kill ended
    /// it (false: it had finished by itself).
    @discardableResult
    private func runAndKill(_ path: String, _ arguments: [String], after delay: Double) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(useconds_t(delay * 1_000_000))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
    }

    /// Pauses the VM, runs `body` (a backup), copies each disk as raw while still paused.
    private func pausedCopy(_ vm: LabDomain, tag: String, _ body: () throws -> PointManifest) throws -> (PointManifest, [String: String]) {
        try vm.domain.suspend()
        defer { try? vm.domain.resume() }
        var references: [String: String] = [:]
        for (target, path) in try vm.diskPaths() {
            let copy = lab.root.appendingPathComponent("\(vm.domain.name)-\(target)-\(tag).raw").path
            XCTAssertEqual(try runTool("/usr/bin/qemu-img", ["convert", "-U", "-O", "raw", path, copy]).status, 0)
            references[target] = copy
        }
        return (try body(), references)
    }

    private func backupWithRawReference(_ vm: LabDomain, tag: String) throws -> (PointManifest, [String: String]) {
        try pausedCopy(vm, tag: tag) { try lab.backup(vm) }
    }

    /// Reads the point's every chunk from the store and compares it with the raw reference.
    private func assertStoreHolds(_ point: PointManifest, _ references: [String: String], store: Store? = nil,
                                  file: StaticString = #filePath, line: UInt = #line) throws {
        let store = store ?? lab.store
        for disk in point.disks {
            let reference = try XCTUnwrap(FileHandle(forReadingAtPath: references[disk.target]!))
            defer { try? reference.close() }
            let index = try store.readDiskIndex(disk)
            for (position, id) in index.chunks.enumerated() {
                try reference.seek(toOffset: UInt64(position * index.chunkSize))
                let expected = reference.readData(ofLength: index.chunkSize)
                let actual = id.isZero ? Data(count: expected.count) : try store.readChunk(id)
                XCTAssertTrue(actual == expected, "point \(point.id) \(disk.target) chunk \(position) differs", file: file, line: line)
            }
        }
    }



    private func usedBytes(_ path: String) throws -> UInt64 {
        var info = statvfs()
        XCTAssertEqual(statvfs(path, &info), 0)
        return UInt64(info.f_blocks - info.f_bfree) * UInt64(info.f_frsize)
    }
}
