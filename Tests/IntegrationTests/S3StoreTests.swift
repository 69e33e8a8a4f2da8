import BackupEngine
import Foundation
import XCTest

/// vbackup with its store in S3, on the real Ceph RADOS Gateway, driven through the CLI as an
/// operator would: backups of running VMs restore bit-exact, a killed upload leaves a store that
/// verifies, and a wrong key, a missing bucket or a dead endpoint each fail in one line.
final class S3StoreTests: XCTestCase {
    var lab: Lab!
    var s3: S3Lab!

    override func setUpWithError() throws {
        lab = try Lab()
        s3 = try S3Lab(self)
    }

    override func tearDown() { lab?.cleanup() }

    private func vbackup(_ arguments: [String], store: String? = nil, environment extra: [String: String] = [:])
        throws -> (status: Int32, out: String, err: String)
    {
        let environment = s3.environment.merging(["VBACKUP_CACHE": lab.cachePath.path]) { $1 }.merging(extra) { $1 }
        return try runTool(vbackupBinary, arguments + ["--store", store ?? s3.storeURL()], environment: environment)
    }

    /// Pauses the VM, copies its disk as the reference, backs up through the CLI, resumes.
    private func backupWithReference(_ vm: LabDomain, tag: String) throws -> (reference: String, report: [String: Any]) {
        try vm.domain.suspend()
        defer { try? vm.domain.resume() }
        let reference = lab.root.appendingPathComponent("\(vm.domain.name)-\(tag).ref.qcow2").path
        try LabDomain.copyImage(try vm.diskPaths()["vda"]!, to: reference)
        let backup = try vbackup(["backup", vm.domain.name, "--json"])
        XCTAssertEqual(backup.status, 0, backup.err)
        let reports = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(backup.out.utf8)) as? [[String: Any]])
        return (reference, try XCTUnwrap(reports.first))
    }

    func testBackupAndRestoreOfARunningVMThroughS3AreBitExact() throws {
        let created = try vbackup(["store", "init", "--encryption", "none"])
        XCTAssertEqual(created.status, 0, created.err)
        XCTAssertTrue(created.out.contains("s3://\(s3.bucket)/store"), "names the S3 location: \(created.out)")
        let vm = try lab.domain([.init(target: "vda", sizeMiB: 96)])
        let random = try lab.randomFile(mib: 40)
        try vm.write("vda", offset: 0, length: 40 * .mib, from: random)
        try vm.write("vda", offset: 60 * .mib, length: 8 * .mib, pattern: 0x3C)
        let full = try backupWithReference(vm, tag: "full")
        let requests = try XCTUnwrap(full.report["storageRequests"] as? [String: Any], "the S3 backup counts its requests")
        let puts = try XCTUnwrap(requests["puts"] as? Int)
        // 40 MiB of random data is 3 packs of 16 MiB, plus fragment, disk index, manifest, lease.
        XCTAssertLessThanOrEqual(puts, 12, "packs go up whole, one request each: \(requests)")
        XCTAssertGreaterThanOrEqual(puts, 4, "\(requests)")

        try vm.write("vda", offset: 2 * .mib, length: 64 << 10, pattern: 0x77)
        try vm.write("vda", offset: 80 * .mib, length: 1 * .mib, pattern: 0x11)
        let incremental = try backupWithReference(vm, tag: "incremental")
        let point = try XCTUnwrap(incremental.report["point"] as? [String: Any])
        XCTAssertEqual(point["kind"] as? String, "incremental", "dirty bitmaps work the same with an S3 store")

        for (tag, reference) in [("full", full.reference), ("incremental", incremental.reference)] {
            let points = try vbackup(["points", vm.domain.name, "--json"])
            let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(points.out.utf8)) as? [[String: Any]])
            let id = try XCTUnwrap(list[tag == "full" ? 0 : 1]["id"] as? String)
            let target = lab.root.appendingPathComponent("restored-\(tag)").path
            let restore = try vbackup(["restore", "vm", vm.domain.name, "--point", id, "--to", target])
            XCTAssertEqual(restore.status, 0, restore.err)
            XCTAssertTrue(try LabDomain.sameContent(reference, target + "/\(vm.domain.name)-vda.qcow2"), "\(tag) restores bit-exact")
        }
        let verify = try vbackup(["verify", "--json"])
        XCTAssertEqual(verify.status, 0, verify.out + verify.err)
    }

    func testABackupKilledMidUploadLeavesAStoreThatVerifiesAndTheNextBackupWorks() throws {
        XCTAssertEqual(try vbackup(["store", "init", "--encryption", "none"]).status, 0)
        let vm = try lab.domain([.init(target: "vda", sizeMiB: 160)])
        let random = try lab.randomFile(mib: 48)
        try vm.write("vda", offset: 0, length: 48 * .mib, from: random)
        let first = try backupWithReference(vm, tag: "first")
        // 80 MiB the store has never seen: five packs, so the kill lands before the commit.
        try vm.write("vda", offset: 64 * .mib, length: 80 * .mib, from: try lab.randomFile(mib: 80))

        // Kill the full backup once its first new pack is in the bucket, before it can commit.
        let adapter = try s3.adapter()
        let packsBefore = try adapter.list(prefix: "packs/").count
        let log = lab.root.appendingPathComponent("killed-backup.log")
        let (process, handle) = try startVbackup(
            ["backup", vm.domain.name, "--full", "--store", s3.storeURL()], log: log,
            environment: s3.environment.merging(["VBACKUP_CACHE": lab.cachePath.path]) { $1 })
        defer { try? handle.close() }
        let deadline = Date().addingTimeInterval(60)
        while try adapter.list(prefix: "packs/").count == packsBefore && process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTAssertTrue(process.isRunning, "killed mid-run: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertGreaterThan(try adapter.list(prefix: "packs/").count, packsBefore, "some of its packs were uploaded")

        let points = try vbackup(["points", vm.domain.name, "--json"])
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(points.out.utf8)) as? [[String: Any]])
        XCTAssertEqual(list.count, 1, "the killed backup left no point")
        let verify = try vbackup(["verify", "--json"])
        XCTAssertEqual(verify.status, 0, "the store verifies: \(verify.out) \(verify.err)")

        let next = try backupWithReference(vm, tag: "next")
        let gc = try vbackup(["gc", "--json"], environment: ["VBACKUP_LEASE_SECONDS": "900"])
        XCTAssertEqual(gc.status, 0, gc.err)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(gc.out.utf8)) as? [String: Any])
        XCTAssertEqual(report["deadSessionsCleared"] as? Int, 1, "the killed backup's lease is cleared: \(gc.out)")
        for (tag, reference) in [("first", first.reference), ("next", next.reference)] {
            let ids = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try vbackup(["points", vm.domain.name, "--json"]).out.utf8)) as? [[String: Any]])
            let id = try XCTUnwrap(ids[tag == "first" ? 0 : 1]["id"] as? String)
            let target = lab.root.appendingPathComponent("restored-\(tag)").path
            let restore = try vbackup(["restore", "vm", vm.domain.name, "--point", id, "--to", target])
            XCTAssertEqual(restore.status, 0, restore.err)
            XCTAssertTrue(try LabDomain.sameContent(reference, target + "/\(vm.domain.name)-vda.qcow2"), "\(tag) restores bit-exact")
        }
        XCTAssertEqual(try vbackup(["verify", "--json"]).status, 0, "still verifies after GC")
    }

    func testAWrongSecretAMissingBucketAndADeadEndpointEachFailInOneClearLine() throws {
        XCTAssertEqual(try vbackup(["store", "init", "--encryption", "none"]).status, 0)

        let wrongSecret = "wrong-\(UUID().uuidString)"
        let denied = try vbackup(["points"], environment: ["AWS_SECRET_ACCESS_KEY": wrongSecret])
        XCTAssertEqual(denied.status, 1)
        assertOneLine(denied.err, naming: s3.accessKey)
        XCTAssertFalse((denied.out + denied.err).contains(wrongSecret), "the secret is never printed")

        let missing = "vbt-missing-\(UUID().uuidString.prefix(8).lowercased())"
        let noBucket = try vbackup(["points"], store: "s3://\(missing)/store?endpoint=\(s3.endpoint)&region=us-east-1")
        XCTAssertEqual(noBucket.status, 1)
        assertOneLine(noBucket.err, naming: missing)

        let dead = "http://127.0.0.1:9"
        let unreachable = try vbackup(["points"], store: "s3://\(s3.bucket)/store?endpoint=\(dead)&region=us-east-1")
        XCTAssertEqual(unreachable.status, 1)
        assertOneLine(unreachable.err, naming: "127.0.0.1:9")

        let inURL = try vbackup(["points"], store: "s3://key:secret@\(s3.bucket)/store?endpoint=\(s3.endpoint)")
        XCTAssertNotEqual(inURL.status, 0, "credentials in the URL are refused")
        XCTAssertFalse(inURL.err.isEmpty)

        let noKeys = try vbackup(["points"], environment: [
            "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": "",
            "HOME": lab.root.path, "VBACKUP_CONFIG": "/nonexistent",
        ])
        XCTAssertEqual(noKeys.status, 1)
        assertOneLine(noKeys.err, naming: "AWS_ACCESS_KEY_ID")
    }

    /// The CLI over HTTPS to a gateway with a private CA: `ca-file=` in the URL or
    /// `$AWS_CA_BUNDLE` makes it trusted; neither is one line saying what to do.
    func testAGatewayWithAPrivateCAIsReachedOverHTTPSOnceItsCAIsNamed() throws {
        let environment = ProcessInfo.processInfo.environment
        let tlsEndpoint = try XCTUnwrap(environment["VBACKUP_TEST_S3_TLS_ENDPOINT"], "eval \"$(.ci/rgw env)\"")
        let caFile = try XCTUnwrap(environment["VBACKUP_TEST_S3_CA_FILE"])
        let store = "s3://\(s3.bucket)/tls?endpoint=\(tlsEndpoint)&region=us-east-1"
        let vm = try lab.domain([.init(target: "vda", sizeMiB: 16)])
        try vm.write("vda", offset: 0, length: 2 * .mib, pattern: 0x5A)

        let initialized = try vbackup(["store", "init", "--encryption", "none"], store: store + "&ca-file=\(caFile)", environment: ["AWS_CA_BUNDLE": ""])
        XCTAssertEqual(initialized.status, 0, initialized.err)
        let backup = try vbackup(["backup", vm.domain.name, "--json"], store: store, environment: ["AWS_CA_BUNDLE": caFile])
        XCTAssertEqual(backup.status, 0, backup.err)
        let listed = try vbackup(["points", "--json"], store: store, environment: ["AWS_CA_BUNDLE": caFile])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [Any])?.count, 1, listed.out + listed.err)

        let untrusted = try vbackup(["points"], store: store, environment: ["AWS_CA_BUNDLE": ""])
        XCTAssertEqual(untrusted.status, 1)
        assertOneLine(untrusted.err, naming: "TLS certificate is not trusted")
        XCTAssertTrue(untrusted.err.contains("ca-file=PATH") && untrusted.err.contains("AWS_CA_BUNDLE"), untrusted.err)
    }

    private func assertOneLine(_ err: String, naming expected: String, file: StaticString = #filePath, line: UInt = #line) {
        let lines = err.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "one line: \(err)", file: file, line: line)
        XCTAssertTrue(err.contains(expected), "names \(expected): \(err)", file: file, line: line)
    }
}
