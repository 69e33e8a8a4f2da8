import BackupEngine
import Foundation
import XCTest

/// An encrypted store driven through the CLI, as an operator would: `store init --encryption`,
/// backups and a restore with `$VBACKUP_PASSPHRASE`, and a wrong passphrase refused in one line.
final class EncryptedStoreTests: XCTestCase {
    var lab: Lab!
    private let passphrase = "lab passphrase: correct horse"

    override func setUpWithError() throws { lab = try Lab() }
    override func tearDown() { lab?.cleanup() }

    private var storePath: URL { lab.root.appendingPathComponent("encrypted-store") }

    private func vbackup(_ arguments: [String], passphrase: String?) throws -> (status: Int32, out: String, err: String) {
        // An empty variable counts as unset, so an inherited passphrase never leaks in.
        try runTool(vbackupBinary, arguments + ["--store", storePath.path], environment: [
            "VBACKUP_CACHE": lab.cachePath.path, "VBACKUP_PASSPHRASE": passphrase ?? "", "VBACKUP_PASSPHRASE_FILE": "",
        ])
    }

    private func initStore() throws {
        let created = try vbackup(["store", "init", "--encryption", "aes-256-gcm"], passphrase: passphrase)
        XCTAssertEqual(created.status, 0, created.err)
        XCTAssertTrue(created.out.contains("created encrypted store"), created.out)
    }

    /// Pauses the VM, copies its disk as the reference, backs up through the CLI, resumes.
    private func backupWithReference(_ vm: LabDomain, tag: String) throws -> String {
        try vm.domain.suspend()
        defer { try? vm.domain.resume() }
        let reference = lab.root.appendingPathComponent("\(vm.domain.name)-\(tag).ref.qcow2").path
        try LabDomain.copyImage(try vm.diskPaths()["vda"]!, to: reference)
        let backup = try vbackup(["backup", vm.domain.name], passphrase: passphrase)
        XCTAssertEqual(backup.status, 0, backup.err)
        return reference
    }

    func testBackupAndRestoreThroughAnEncryptedStoreAreBitExact() throws {
        try initStore()
        let vm = try lab.domain()
        try vm.write("vda", offset: 0, length: 4 * .mib, pattern: 0x5A)
        try vm.write("vda", offset: 40 * .mib, length: 3 * .mib, pattern: 0xC3)
        _ = try backupWithReference(vm, tag: "full")
        try vm.write("vda", offset: 1 * .mib, length: 64 << 10, pattern: 0x77)   // partly dirty chunks: merged with base chunks
        try vm.write("vda", offset: 50 * .mib, length: 1 * .mib, pattern: 0x11)
        let reference = try backupWithReference(vm, tag: "incremental")

        let points = try vbackup(["points", vm.domain.name, "--json"], passphrase: passphrase)
        XCTAssertEqual(points.status, 0, points.err)
        let list = try JSONSerialization.jsonObject(with: Data(points.out.utf8)) as! [[String: Any]]
        XCTAssertEqual(list.map { $0["kind"] as? String }, ["full", "incremental"])

        let target = lab.root.appendingPathComponent("restored").path
        let restore = try vbackup(["restore", "vm", vm.domain.name, "--to", target], passphrase: passphrase)
        XCTAssertEqual(restore.status, 0, restore.err)
        XCTAssertTrue(try LabDomain.sameContent(reference, target + "/\(vm.domain.name)-vda.qcow2"),
                      "the restore equals the disk at the incremental backup")

        // No stored object names the VM (the plain store's manifests do, in vmName and the XML).
        let name = Data(vm.domain.name.utf8)
        for path in try FileManager.default.subpathsOfDirectory(atPath: storePath.path) {
            guard let data = FileManager.default.contents(atPath: storePath.appendingPathComponent(path).path) else { continue }
            XCTAssertNil(data.range(of: name), "\(path) shows the VM's name")
        }
    }

    func testWrongPassphraseExitsOneWithOneLineAndChangesNothing() throws {
        try initStore()
        let vm = try lab.domain(start: false)
        let keyName = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: storePath.appendingPathComponent("keys").path).first)
        let before = [treeListing(storePath), treeListing(lab.cachePath)]

        for command in [["backup", vm.domain.name], ["points"], ["restore", "vm", vm.domain.name, "--to", lab.root.path + "/r"]] {
            let wrong = try vbackup(command, passphrase: "not the passphrase")
            XCTAssertEqual(wrong.status, 1, "\(command)")
            XCTAssertEqual(wrong.err, "vbackup: wrong passphrase for key file keys/\(keyName)\n", "\(command)")
        }
        let missing = try vbackup(["points"], passphrase: nil)
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.err.split(separator: "\n").count, 1, missing.err)
        XCTAssertTrue(missing.err.contains("$VBACKUP_PASSPHRASE"), missing.err)
        XCTAssertEqual([treeListing(storePath), treeListing(lab.cachePath)], before, "nothing read into the cache, nothing written")
        XCTAssertFalse(FileManager.default.fileExists(atPath: lab.root.path + "/r"))

        let file = lab.root.appendingPathComponent("passphrase.txt")
        try Data((passphrase + "\r\n").utf8).write(to: file)
        let fromFile = try vbackup(["points", "--passphrase-file", file.path], passphrase: nil)
        XCTAssertEqual(fromFile.status, 0, "the first line of the file, without its CRLF: \(fromFile.err)")

        let unchosen = try vbackup(["store", "init"], passphrase: passphrase)
        XCTAssertEqual(unchosen.status, 64, "--encryption must be chosen")
        XCTAssertTrue(unchosen.err.contains("--encryption"), unchosen.err)
    }

    func testKeyFileOutsideTheStoreAndItsPaperCopy() throws {
        let keyFile = lab.root.appendingPathComponent("outside.key").path
        let created = try vbackup(["store", "init", "--encryption", "aes-256-gcm", "--key-file", keyFile], passphrase: passphrase)
        XCTAssertEqual(created.status, 0, created.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: storePath.appendingPathComponent("keys").path))

        let without = try vbackup(["points"], passphrase: passphrase)
        XCTAssertEqual(without.status, 1)
        XCTAssertTrue(without.err.contains("--key-file"), without.err)
        XCTAssertEqual(try vbackup(["points", "--key-file", keyFile], passphrase: passphrase).status, 0)

        let paper = try vbackup(["key", "export", "--paper", "--key-file", keyFile], passphrase: passphrase)
        XCTAssertEqual(paper.status, 0, paper.err)
        try FileManager.default.removeItem(atPath: keyFile)
        let paperFile = lab.root.appendingPathComponent("paper.txt")
        try Data(paper.out.replacingOccurrences(of: "\n01 ", with: "\n01 X").utf8).write(to: paperFile)
        let typo = try vbackup(["key", "import", "--paper", paperFile.path, "--key-file", keyFile], passphrase: passphrase)
        XCTAssertEqual(typo.status, 1)
        XCTAssertTrue(typo.err.hasPrefix("vbackup: paper key: line 01 "), typo.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: keyFile))

        try Data(paper.out.utf8).write(to: paperFile)
        let restored = try vbackup(["key", "import", "--paper", paperFile.path, "--key-file", keyFile], passphrase: passphrase)
        XCTAssertEqual(restored.status, 0, restored.err)
        let points = try runTool(vbackupBinary, ["points", "--store", storePath.path], environment: [
            "VBACKUP_CACHE": lab.cachePath.path, "VBACKUP_PASSPHRASE": passphrase, "VBACKUP_KEY_FILE": keyFile,
        ])
        XCTAssertEqual(points.status, 0, points.err)
    }

    private func treeListing(_ url: URL) -> [String] {
        let files = (try? FileManager.default.subpathsOfDirectory(atPath: url.path)) ?? []
        return files.sorted().map { path in
            let attributes = try? FileManager.default.attributesOfItem(atPath: url.appendingPathComponent(path).path)
            return "\(path) \(attributes?[.size] ?? 0) \((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        }
    }
}
