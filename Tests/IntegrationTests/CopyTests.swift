import BackupEngine
import Foundation
@testable import S3Storage
import VBackupModel
import VBackupStore
import XCTest

/// `vbackup copy` with the real binary, into local folders and into S3 on the lab's real Ceph
/// RGW: points of real VMs copied to another store restore bit-exact from it (local → local,
/// local → S3, S3 → S3); a copy killed mid-way finishes on the next run without sending again
/// what arrived, and the target verifies; `--bandwidth` bounds the rate; bad input is one line.
final class CopyTests: XCTestCase {
    var lab: Lab!
    var s3: S3Lab!
    private let targetPassphrase = "copy target: off-site horse"

    override func setUpWithError() throws {
        lab = try Lab()
        s3 = try S3Lab(self, prefix: "vbt-copy")
        let bucket = s3!
        addTeardownBlock { Self.removeBucket(bucket) }
    }

    override func tearDown() { lab?.cleanup() }

    /// Empties the lab bucket and removes it (S3Lab only empties it).
    static func removeBucket(_ s3: S3Lab) {
        s3.empty()
        guard let adapter = try? S3StorageAdapter(
            location: S3Location(parsing: "s3://\(s3.bucket)?endpoint=\(s3.endpoint)&region=us-east-1"),
            credentials: S3Credentials(accessKeyID: s3.accessKey, secretAccessKey: s3.secretKey), create: false) else { return }
        _ = try? adapter.send("bucket", S3Request(.DELETE, nil, kind: .other))
    }

    /// A store `vbackup copy` writes to, made with `vbackup store init`.
    struct Target {
        var location: String
        var encrypted: Bool
    }

    private var environment: [String: String] {
        // Empty variables count as unset: nothing inherited unlocks a store by accident.
        s3.environment.merging([
            "VBACKUP_CACHE": lab.cachePath.path, "VBACKUP_PASSPHRASE": "", "VBACKUP_PASSPHRASE_FILE": "",
            "VBACKUP_TO_PASSPHRASE": targetPassphrase, "VBACKUP_TO_PASSPHRASE_FILE": "",
        ]) { $1 }
    }

    private func vbackup(_ arguments: [String], passphrase: String = "") throws -> (status: Int32, out: String, err: String) {
        try runTool(vbackupBinary, arguments, environment: environment.merging(["VBACKUP_PASSPHRASE": passphrase]) { $1 })
    }

    private func localTarget(_ name: String, encrypted: Bool) throws -> Target {
        try makeTarget(lab.root.appendingPathComponent(name).path, encrypted: encrypted)
    }

    /// A store under `name/` in the lab bucket.
    private func s3Target(_ name: String, encrypted: Bool) throws -> Target {
        try makeTarget(s3.storeURL(name), encrypted: encrypted)
    }

    private func makeTarget(_ location: String, encrypted: Bool) throws -> Target {
        let target = Target(location: location, encrypted: encrypted)
        let created = try vbackup(["store", "init", "--store", target.location, "--encryption", encrypted ? "aes-256-gcm" : "none"],
                                  passphrase: targetPassphrase)
        XCTAssertEqual(created.status, 0, created.err)
        return target
    }

    /// `vbackup copy --from LAB --to TARGET --json …`: the report.
    private func copy(to target: Target, from source: Target? = nil, _ extra: [String] = [],
                      file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let run = try vbackup(["copy", "--from", source?.location ?? lab.storePath.path, "--to", target.location, "--json"] + extra,
                              passphrase: source?.encrypted == true ? targetPassphrase : "")
        XCTAssertEqual(run.status, 0, run.err, file: file, line: line)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any], run.out, file: file, line: line)
    }

    /// Restores `point` from the target with the real restore command and compares each disk.
    private func assertTargetRestores(_ target: Target, _ point: PointManifest, equal references: [String: String],
                                      file: StaticString = #filePath, line: UInt = #line) throws {
        let folder = lab.root.appendingPathComponent("restore-\(point.id)-\(UUID().uuidString.prefix(4))").path
        let restore = try vbackup(["restore", "vm", point.vmName, "--store", target.location, "--point", point.id, "--to", folder],
                                  passphrase: target.encrypted ? targetPassphrase : "")
        XCTAssertEqual(restore.status, 0, restore.err, file: file, line: line)
        for (disk, reference) in references {
            XCTAssertTrue(try LabDomain.sameContent(reference, "\(folder)/\(point.vmName)-\(disk).qcow2"),
                          "point \(point.id) disk \(disk) restored from \(target.location) differs", file: file, line: line)
        }
    }

    private func ids(_ report: [String: Any], _ key: String) -> [String] {
        (report[key] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    // MARK: - Copies restore bit-exact

    func testLocalCopiesOfAFullAndAnIncrementalRestoreBitExactAndASecondRunSendsNothing() throws {
        let vm = try lab.domain()
        try vm.write("vda", offset: 0, length: 8 * .mib, from: try lab.randomFile(mib: 8))
        try vm.write("vda", offset: 40 * .mib, length: 2 * .mib, pattern: 0xC3)
        let (full, fullReferences) = try lab.backupWithReference(vm, tag: "full")
        try vm.write("vda", offset: 1 * .mib, length: 64 << 10, pattern: 0x77)
        try vm.zero("vda", offset: 41 * .mib, length: 1 * .mib)
        let (incremental, references) = try lab.backupWithReference(vm, tag: "incremental")

        for target in [try localTarget("plain-target", encrypted: false), try localTarget("sealed-target", encrypted: true)] {
            let report = try copy(to: target, ["--vm", vm.domain.name])
            XCTAssertEqual(ids(report, "copied"), [full.id, incremental.id], target.location)
            XCTAssertGreaterThan(report["chunksSent"] as? Int ?? 0, 0)
            try assertTargetRestores(target, full, equal: fullReferences)
            try assertTargetRestores(target, incremental, equal: references)

            let again = try copy(to: target)
            XCTAssertEqual(ids(again, "alreadyThere"), [full.id, incremental.id])
            XCTAssertEqual(again["chunksSent"] as? Int, 0)
            XCTAssertEqual(again["bytesSent"] as? Int, 0)
            let verify = try vbackup(["verify", "--store", target.location], passphrase: target.encrypted ? targetPassphrase : "")
            XCTAssertEqual(verify.status, 0, verify.out + verify.err)
        }
    }

    // MARK: - Resume

    func testACopyKilledMidwayFinishesOnTheNextRunSendingOnlyWhatWasMissing() throws {
        try killAndResume(into: try localTarget("resume-target", encrypted: true))
    }

    func testACopyIntoS3KilledMidwayFinishesOnTheNextRunSendingOnlyWhatWasMissing() throws {
        try killAndResume(into: try s3Target("resume", encrypted: true))
    }

    /// Copies a 192 MiB point at 40 MiB/s, SIGKILLs the copy after its first checkpoint (128 MiB
    /// sent), then runs it again unthrottled. (The lab RGW keeps objects in a 4 GiB memstore
    /// shared by every test running: keep this small.)
    private func killAndResume(into target: Target) throws {
        let firstCheckpoint = CopyOptions().checkpointBytes
        let vm = try lab.domain([.init(target: "vda", sizeMiB: 224)])
        try vm.write("vda", offset: 0, length: 192 * .mib, from: try lab.randomFile(mib: 192))
        let (point, references) = try lab.backupWithReference(vm, tag: "big")

        // Slowed down so the kill lands after the first checkpoint and well before the end.
        let log = lab.root.appendingPathComponent("copy.log")
        let (process, handle) = try startVbackup(
            ["copy", "--from", lab.storePath.path, "--to", target.location, "--bandwidth", "40MiB/s"], log: log, environment: environment)
        defer { try? handle.close() }
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline, !((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("checkpoint") {
            usleep(50_000)
        }
        XCTAssertTrue(process.isRunning, "the copy ended before it was killed: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let listed = try vbackup(["points", "--store", target.location, "--json"], passphrase: targetPassphrase)
        XCTAssertEqual(listed.status, 0, listed.err)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [Any])?.count, 0, "no partial point is visible")

        let resumed = try copy(to: target)
        XCTAssertEqual(ids(resumed, "copied"), [point.id])
        let sent = resumed["bytesSent"] as? Int ?? 0, kept = resumed["chunksDeduplicated"] as? Int ?? 0
        XCTAssertGreaterThanOrEqual(kept, firstCheckpoint >> 18, "what was checkpointed before the kill is not sent again")
        XCTAssertLessThan(sent, (192 << 20) - firstCheckpoint / 2, "the second run sent less than the whole (192 MiB)")
        let verify = try vbackup(["verify", "--store", target.location], passphrase: targetPassphrase)
        XCTAssertEqual(verify.status, 0, verify.out + verify.err)
        try assertTargetRestores(target, point, equal: references)
    }

    func testS3CopiesFromALocalStoreAndBetweenBucketsRestoreBitExact() throws {
        let vm = try lab.domain()
        try vm.write("vda", offset: 0, length: 8 * .mib, from: try lab.randomFile(mib: 8))
        let (full, fullReferences) = try lab.backupWithReference(vm, tag: "full")
        try vm.write("vda", offset: 20 * .mib, length: 1 * .mib, pattern: 0x5D)
        let (incremental, references) = try lab.backupWithReference(vm, tag: "incremental")

        let sealed = try s3Target("sealed", encrypted: true)
        let first = try copy(to: sealed)
        XCTAssertEqual(ids(first, "copied"), [full.id, incremental.id])
        let plain = try s3Target("plain", encrypted: false)
        let between = try copy(to: plain, from: sealed)
        XCTAssertEqual(ids(between, "copied"), [full.id, incremental.id])
        XCTAssertEqual(between["chunksSent"] as? Int, first["chunksSent"] as? Int, "the same distinct chunks, each once")
        for target in [sealed, plain] {
            try assertTargetRestores(target, full, equal: fullReferences)
            try assertTargetRestores(target, incremental, equal: references)
            let verify = try vbackup(["verify", "--store", target.location], passphrase: target.encrypted ? targetPassphrase : "")
            XCTAssertEqual(verify.status, 0, verify.out + verify.err)
        }
        let again = try copy(to: plain, from: sealed)
        XCTAssertEqual(ids(again, "alreadyThere"), [full.id, incremental.id])
        XCTAssertEqual(again["bytesSent"] as? Int, 0)
    }

    func testCtrlCStopsACopyCleanlyKeepingWhatItSentAndARerunResumes() throws {
        let vm = try lab.domain()
        try vm.write("vda", offset: 0, length: 48 * .mib, from: try lab.randomFile(mib: 48))
        let (point, references) = try lab.backupWithReference(vm, tag: "interrupted")
        let target = try localTarget("interrupted-target", encrypted: false)
        let log = lab.root.appendingPathComponent("interrupted.log")
        let (process, handle) = try startVbackup(
            ["copy", "--from", lab.storePath.path, "--to", target.location, "--bandwidth", "8MiB/s"], log: log, environment: environment)
        defer { try? handle.close() }
        Thread.sleep(forTimeInterval: 2)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(process.terminationStatus, 1, output)
        XCTAssertTrue(output.contains("vbackup: copy incomplete: interrupted; run the same copy again to resume"), output)
        XCTAssertTrue(output.contains("checkpoint,"), "what was sent is kept on the way out: \(output)")

        let resumed = try copy(to: target)
        XCTAssertEqual(ids(resumed, "copied"), [point.id])
        XCTAssertGreaterThan(resumed["chunksDeduplicated"] as? Int ?? 0, 8, "the chunks sent before Ctrl-C are not sent again")
        try assertTargetRestores(target, point, equal: references)
    }

    // MARK: - Bandwidth

    func testBandwidthBoundsTheRateOfWhatIsSent() throws {
        let vm = try lab.domain()
        try vm.write("vda", offset: 0, length: 48 * .mib, from: try lab.randomFile(mib: 48))
        _ = try lab.backup(vm)
        let target = try localTarget("slow-target", encrypted: false)

        let report = try copy(to: target, ["--bandwidth", "16MiB/s"])
        let sent = Double(report["bytesSent"] as? Int ?? 0), seconds = report["seconds"] as? Double ?? 0
        XCTAssertGreaterThan(sent, 47 * 1024 * 1024)
        XCTAssertGreaterThan(seconds, 2.0, "48 MiB at 16 MiB/s takes about 3 s")
        XCTAssertLessThan(sent / seconds, 1.3 * 16 * 1024 * 1024, "sent at \(sent / seconds / 1048576) MiB/s")
    }

    // MARK: - Bad input

    func testBadTargetsAndOptionsFailWithOneLineAndWriteNothing() throws {
        let empty = lab.root.appendingPathComponent("not-a-store")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let unlocked = try localTarget("unlocked-target", encrypted: false)
        let cases: [(arguments: [String], status: Int32, says: String)] = [
            (["--to", unlocked.location, "--immutable-for", "30d"], 1, "cannot keep immutable points"),
            (["--to", unlocked.location, "--immutable-for", "soon"], 64, "--immutable-for"),
            (["--to", "/nonexistent/vbackup/target"], 1, "/nonexistent/vbackup/target"),
            (["--to", empty.path], 1, "is not a vbackup store"),
            (["--to", lab.storePath.path], 1, "same store"),
            (["--to", "ftp://example/store"], 64, "ftp"),
            (["--to", "s3://vbt-copy-no-such-bucket/store?endpoint=\(s3.endpoint)&region=us-east-1"], 1, "vbt-copy-no-such-bucket"),
            (["--to", empty.path, "--bandwidth", "fast"], 64, "--bandwidth"),
            ([], 64, "--to"),
        ]
        for (arguments, status, says) in cases {
            let run = try vbackup(["copy", "--from", lab.storePath.path] + arguments)
            XCTAssertEqual(run.status, status, "\(arguments): \(run.err)")
            XCTAssertTrue(run.err.contains(says), "\(arguments): \(run.err)")
            if status == 1 {
                XCTAssertEqual(run.err.split(separator: "\n").count, 1, "\(arguments): one line, got \(run.err)")
            }
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: empty.path), [], "nothing written into a non-store")
        let points = try vbackup(["points", "--store", unlocked.location, "--json"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(points.out.utf8)) as? [Any])?.count, 0,
                       "nothing copied into a target without the lock: \(points.out)")
    }
}
