import Foundation
import XCTest

/// `vbackup mount` as an operator runs it: a point's ext4 disk mounted read-only, a file read
/// back, Ctrl-C, and nothing left on the host; or the disk only served over NBD.
final class MountTests: XCTestCase {
    var lab: Lab!

    override func setUpWithError() throws { lab = try Lab() }
    override func tearDown() { lab?.cleanup() }

    private var environment: [String: String] { ["VBACKUP_CACHE": lab.cachePath.path] }

    private func vbackup(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runTool(vbackupBinary, arguments + ["--store", lab.storePath.path], environment: environment)
    }

    /// A shut-off domain whose vda is the tiny guest's ext4 disk holding `restore-me.bin`,
    /// backed up with the vbackup binary; returns the point id and the file's sha256.
    private func backedUpExt4Domain() throws -> (point: String, sha256: String, image: String) {
        let vm = try lab.domain(start: false)
        let content = lab.root.appendingPathComponent("content")
        try FileManager.default.createDirectory(at: content.appendingPathComponent("docs"), withIntermediateDirectories: true)
        let file = content.appendingPathComponent("docs/restore-me.bin").path
        XCTAssertEqual(try runTool("/bin/dd", ["if=/dev/urandom", "of=\(file)", "bs=1M", "count=3", "status=none"]).status, 0)
        let sha256 = try XCTUnwrap(try runTool("/usr/bin/sha256sum", [file]).out.split(separator: " ").first.map(String.init))
        let image = try XCTUnwrap(try vm.diskPaths()["vda"])
        let made = try runTool(Self.tinyGuest + "/make-disk.sh", [image, "64M", content.path])
        XCTAssertEqual(made.status, 0, made.err)
        let backup = try vbackup(["backup", vm.domain.name])
        XCTAssertEqual(backup.status, 0, backup.err)
        let points = try vbackup(["points", vm.domain.name, "--json"])
        let list = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(points.out.utf8)) as? [[String: Any]])
        return (try XCTUnwrap(list.first?["id"] as? String), sha256, image)
    }

    func testMountShowsThePointsFilesAndCtrlCLeavesNothingBehind() throws {
        let (point, sha256, _) = try backedUpExt4Domain()
        let directory = lab.root.appendingPathComponent("mnt").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let log = lab.root.appendingPathComponent("mount.log")
        let (process, handle) = try startVbackup(["mount", point, "vda", directory, "--json", "--store", lab.storePath.path],
                                                 log: log, environment: environment)
        defer { try? handle.close() }
        let report = try waitForJSON(log, process: process)
        XCTAssertEqual(report["mountpoint"] as? String, directory)
        XCTAssertEqual(report["filesystem"] as? String, "ext4")
        let socket = try XCTUnwrap(report["socket"] as? String)
        let work = URL(fileURLWithPath: socket).deletingLastPathComponent().path
        XCTAssertTrue(isMounted(directory))

        let read = try runTool("/usr/bin/sha256sum", [directory + "/docs/restore-me.bin"])
        XCTAssertEqual(read.out.split(separator: " ").first.map(String.init), sha256, read.err)
        let manifest = try runTool("/bin/sh", ["-c", "cd '\(directory)' && sha256sum --quiet -c MANIFEST"])
        XCTAssertEqual(manifest.status, 0, "every file matches the disk's MANIFEST: \(manifest.out)\(manifest.err)")
        let write = FileManager.default.createFile(atPath: directory + "/new-file", contents: Data("x".utf8))
        XCTAssertFalse(write, "the mount is read-only")

        process.interrupt()
        XCTAssertTrue(waitForExit(process, seconds: 60), "vbackup mount ended after SIGINT")
        XCTAssertEqual(process.terminationStatus, 0, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
        XCTAssertFalse(isMounted(directory))
        XCTAssertFalse(isMounted(work + "/fuse"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: socket))
        XCTAssertFalse(FileManager.default.fileExists(atPath: work))
        let loops = try runTool("/usr/sbin/losetup", ["-l", "-n", "-O", "NAME,BACK-FILE"])
        XCTAssertFalse(loops.out.contains(work), "a loop device is left: \(loops.out)")
        XCTAssertEqual(processes(mentioning: work), [], "nbdfuse is left")
    }

    func testServingWithoutAMountPointPrintsAURIThatReadsTheDisk() throws {
        let (point, _, image) = try backedUpExt4Domain()
        let log = lab.root.appendingPathComponent("serve.log")
        let (process, handle) = try startVbackup(["mount", point, "vda", "--json", "--store", lab.storePath.path],
                                                 log: log, environment: environment)
        defer { try? handle.close() }
        let report = try waitForJSON(log, process: process)
        let uri = try XCTUnwrap(report["uri"] as? String)
        let socket = try XCTUnwrap(report["socket"] as? String)
        XCTAssertTrue(uri.hasPrefix("nbd+unix:///vda?socket="), uri)
        let compare = try runTool("/usr/bin/qemu-img", ["compare", "-U", "-F", "raw", image, uri])
        XCTAssertEqual(compare.status, 0, compare.out + compare.err)

        process.terminate()
        XCTAssertTrue(waitForExit(process, seconds: 30))
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: URL(fileURLWithPath: socket).deletingLastPathComponent().path))
    }

    func testAPartitionIsMountedWhenChosenAndTheChoiceIsAskedForWhenThereAreSeveral() throws {
        let vm = try lab.domain(start: false)
        let image = try XCTUnwrap(try vm.diskPaths()["vda"])
        try makePartitionedDisk(at: image, note: "partition two")
        XCTAssertEqual(try vbackup(["backup", vm.domain.name]).status, 0)
        let points = try vbackup(["points", vm.domain.name, "--json"])
        let point = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(points.out.utf8)) as? [[String: Any]])?.first?["id"] as? String)
        let directory = lab.root.appendingPathComponent("mnt").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let before = try workFolders()

        let ambiguous = try vbackup(["mount", point, "vda", directory])
        XCTAssertEqual(ambiguous.status, 1)
        XCTAssertTrue(ambiguous.err.contains("partitions 1, 2") && ambiguous.err.contains("--partition"), ambiguous.err)
        XCTAssertEqual(ambiguous.err.split(separator: "\n").count, 1, ambiguous.err)
        XCTAssertEqual(try workFolders(), before, "the failed mount removed its folder")
        XCTAssertFalse(isMounted(directory))
        XCTAssertFalse(try runTool("/usr/sbin/losetup", ["-l", "-n", "-O", "BACK-FILE"]).out.contains("vbackup-mount-"))

        let log = lab.root.appendingPathComponent("partition.log")
        let (process, handle) = try startVbackup(["mount", point, "vda", directory, "--partition", "2", "--json",
                                                  "--store", lab.storePath.path], log: log, environment: environment)
        defer { try? handle.close() }
        let report = try waitForJSON(log, process: process)
        XCTAssertEqual(report["partition"] as? Int, 2)
        XCTAssertEqual(try String(contentsOfFile: directory + "/note.txt", encoding: .utf8), "partition two\n")
        process.interrupt()
        XCTAssertTrue(waitForExit(process, seconds: 60))
        XCTAssertEqual(process.terminationStatus, 0, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
        XCTAssertFalse(isMounted(directory))
        XCTAssertEqual(try workFolders(), before)
        XCTAssertFalse(try runTool("/usr/sbin/losetup", ["-l", "-n", "-O", "BACK-FILE"]).out.contains("vbackup-mount-"))
    }

    func testABadPointIDIsOneLineAndMakesNothing() throws {
        _ = try backedUpExt4Domain()
        let directory = lab.root.appendingPathComponent("mnt").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        let before = try workFolders()
        let result = try vbackup(["mount", "20200101T000000Z-000000", "vda", directory])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.err.split(separator: "\n").count, 1, result.err)
        XCTAssertTrue(result.err.contains("20200101T000000Z-000000"), result.err)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])
        XCTAssertFalse(isMounted(directory))
        XCTAssertEqual(try workFolders(), before)
    }

    // MARK: - Helpers

    static var tinyGuest: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TinyGuest").path
    }

    /// A 64 MiB qcow2 with an MBR of two Linux partitions (sectors 2048-34815 and 34816 to the
    /// end), the second holding an ext4 filesystem with `note.txt`. The table is written by
    /// hand: no partitioning tool is needed.
    private func makePartitionedDisk(at image: String, note: String) throws {
        let raw = lab.root.appendingPathComponent("partitioned.raw").path
        let filesystem = lab.root.appendingPathComponent("part2.raw").path
        let content = lab.root.appendingPathComponent("part2")
        try FileManager.default.createDirectory(at: content, withIntermediateDirectories: true)
        try Data((note + "\n").utf8).write(to: content.appendingPathComponent("note.txt"))
        let partitions: [(start: UInt32, sectors: UInt32)] = [(2048, 32768), (34816, 131072 - 34816)]
        var mbr = [UInt8](repeating: 0, count: 512)
        for (index, partition) in partitions.enumerated() {
            let entry = 446 + 16 * index
            mbr[entry + 4] = 0x83
            withUnsafeBytes(of: partition.start.littleEndian) { mbr.replaceSubrange(entry + 8..<entry + 12, with: $0) }
            withUnsafeBytes(of: partition.sectors.littleEndian) { mbr.replaceSubrange(entry + 12..<entry + 16, with: $0) }
        }
        mbr[510] = 0x55
        mbr[511] = 0xAA
        XCTAssertEqual(try runTool("/usr/bin/truncate", ["-s", "64M", raw]).status, 0)
        let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: raw))
        handle.write(Data(mbr))
        try handle.close()
        XCTAssertEqual(try runTool("/usr/bin/truncate", ["-s", "\(UInt64(partitions[1].sectors) * 512)", filesystem]).status, 0)
        let mkfs = try runTool("/usr/sbin/mkfs.ext4", ["-q", "-F", "-d", content.path, filesystem])
        XCTAssertEqual(mkfs.status, 0, mkfs.err)
        let copy = try runTool("/bin/dd", ["if=\(filesystem)", "of=\(raw)", "bs=1M", "seek=\(partitions[1].start / 2048)",
                                           "conv=notrunc,sparse", "status=none"])
        XCTAssertEqual(copy.status, 0, copy.err)
        let convert = try runTool("/usr/bin/qemu-img", ["convert", "-f", "raw", "-O", "qcow2", "-o", "compat=1.1", raw, image])
        XCTAssertEqual(convert.status, 0, convert.err)
    }

    /// The JSON the command prints once it is ready (it keeps running after).
    private func waitForJSON(_ log: URL, process: Process, seconds: Double = 90) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let start = text.firstIndex(of: "{"), let end = text.lastIndex(of: "}"),
               let object = try? JSONSerialization.jsonObject(with: Data(text[start...end].utf8)) as? [String: Any] {
                return object
            }
            if !process.isRunning { break }
            usleep(100_000)
        }
        XCTFail("no report from vbackup mount: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        throw CancellationError()
    }

    private func waitForExit(_ process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(100_000) }
        return !process.isRunning
    }

    private func isMounted(_ path: String) -> Bool {
        let table = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        return table.split(separator: "\n").contains { $0.split(separator: " ").dropFirst(4).first.map(String.init) == path }
    }

    /// Processes whose command line mentions `text`.
    private func processes(mentioning text: String) -> [String] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return pids.filter { Int($0) != nil }.compactMap { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(text) ? line : nil
        }
    }

    private func workFolders() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("vbackup-mount-") }.sorted()
    }
}
