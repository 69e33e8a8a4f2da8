import BackupEngine
import Foundation
import VBackupModel
@testable import VBackupStore
import XCTest

/// A point served over vbackup's NBD server reads back as the disk it was taken from; a chunk
/// the store can no longer serve is EIO for the reader and a line naming the disk range.
final class PointExportTests: XCTestCase {
    var lab: Lab!

    override func setUpWithError() throws { lab = try Lab() }
    override func tearDown() { lab?.cleanup() }

    func testServedPointEqualsTheSourceDisksAndARottenChunkIsEIOWithItsRange() throws {
        let vm = try lab.domain([.init(target: "vda", sizeMiB: 64), .init(target: "vdb", sizeMiB: 16)])
        let random = try lab.randomFile(mib: 6)
        try vm.write("vda", offset: 0, length: 6 * .mib, from: random)
        try vm.write("vda", offset: 40 * .mib + 12345, length: .mib, pattern: 0x5A)
        try vm.write("vdb", offset: 3 * .mib, length: 2 * .mib, from: random)
        let (point, references) = try lab.backupWithReference(vm, tag: "served")

        let socket = lab.root.appendingPathComponent("point.sock").path
        let export = try PointExport(store: lab.store, point: point, socketPath: socket)
        XCTAssertEqual(export.uri(for: "vda"), "nbd+unix:///vda?socket=\(socket)")
        for target in ["vda", "vdb"] {
            let compare = try runTool("/usr/bin/qemu-img", ["compare", "-U", "-F", "raw", references[target]!, export.uri(for: target)])
            XCTAssertEqual(compare.status, 0, "\(target): \(compare.out)\(compare.err)")
        }
        let map = try runTool("/usr/bin/nbdinfo", ["--map", export.uri(for: "vda")])
        XCTAssertTrue(map.out.contains("hole,zero"), "the unwritten tail reads as a hole: \(map.out)")
        XCTAssertEqual(export.readErrors, [])
        export.stop()
        XCTAssertFalse(FileManager.default.fileExists(atPath: socket))

        // Rot one byte of one chunk of vda, then serve the point again (a fresh cache).
        let index = try lab.store.readDiskIndex(point.disks.first { $0.target == "vda" }!)
        let chunk = 9   // inside the random data, so unique to vda
        XCTAssertFalse(index.chunks[chunk].isZero)
        try lab.rot(index.chunks[chunk])
        let damaged = try PointExport(store: lab.store, point: point, socketPath: socket)
        defer { damaged.stop() }
        let copy = lab.root.appendingPathComponent("copy.raw").path
        for _ in 0..<2 {
            let convert = try runTool("/usr/bin/qemu-img", ["convert", "-f", "raw", "-O", "raw", damaged.uri(for: "vda"), copy])
            XCTAssertNotEqual(convert.status, 0)
            XCTAssertTrue(convert.err.contains("Input/output error"), convert.err)
        }
        let start = UInt64(chunk * index.chunkSize)
        XCTAssertEqual(damaged.readErrors.count, 1, "one line per damaged range, however often it is read: \(damaged.readErrors)")
        let line = try XCTUnwrap(damaged.readErrors.first)
        XCTAssertTrue(line.hasPrefix("vda bytes \(start)-\(start + UInt64(index.chunkSize) - 1): chunk \(index.chunks[chunk].hex.prefix(16))"), line)
        // The other disk, and vda's intact chunks, still read.
        let vdb = try runTool("/usr/bin/qemu-img", ["compare", "-U", "-F", "raw", references["vdb"]!, damaged.uri(for: "vdb")])
        XCTAssertEqual(vdb.status, 0, vdb.err)
        let pattern = try runTool("/usr/bin/qemu-io", ["-r", "-f", "raw", "-c", "read -P 0x5a \(40 * UInt64.mib + 12345) \(UInt64.mib)",
                                                       damaged.uri(for: "vda")])
        XCTAssertEqual(pattern.status, 0, pattern.err)
        XCTAssertTrue(pattern.out.contains("read 1048576/1048576 bytes") && !pattern.out.contains("verification failed"), pattern.out)
    }


}
