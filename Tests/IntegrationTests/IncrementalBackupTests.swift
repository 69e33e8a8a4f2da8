import BackupEngine
import VBackupModel
import XCTest

/// Full, then guest writes, then incrementals, over several rounds: every point restores
/// bit-exact to the disk as it was at that point's moment.
final class IncrementalBackupTests: XCTestCase {
    var lab: Lab!

    override func setUpWithError() throws { lab = try Lab() }
    override func tearDown() { lab?.cleanup() }

    func testEveryRoundRestoresExactlyTheDiskAtThatMoment() throws {
        let vm = try lab.domain([.init(target: "vda", sizeMiB: 96)])
        try vm.write("vda", offset: 0, length: 8 * .mib, pattern: 0x11)
        try vm.write("vda", offset: 40 * .mib, length: 3 * .mib, pattern: 0x22)
        var rounds: [(PointManifest, [String: String])] = [try lab.backupWithReference(vm, tag: "r0")]
        XCTAssertEqual(rounds[0].0.disks[0].mode, .full)
        XCTAssertEqual(rounds[0].0.disks[0].fullReason, "first backup of this VM")
        XCTAssertLessThan(rounds[0].0.disks[0].bytesRead, 12 * .mib, "a full reads only allocated data")

        for round in 1...3 {
            // Scattered small writes, one overwrite of old data, and a zeroed range.
            for index in 0..<4 {
                try vm.write("vda", offset: UInt64(index * 20 + round) * .mib + 4096, length: 4096, pattern: UInt8(0x30 + round))
            }
            try vm.write("vda", offset: 41 * .mib, length: 64 * 1024, pattern: UInt8(0x40 + round))
            try vm.zero("vda", offset: UInt64(round) * .mib, length: .mib)
            let (point, references) = try lab.backupWithReference(vm, tag: "r\(round)")
            XCTAssertEqual(point.disks[0].mode, .incremental)
            XCTAssertEqual(point.disks[0].basePoint, rounds.last!.0.id)
            XCTAssertLessThan(point.disks[0].bytesRead, 2 * .mib, "an incremental reads only dirty extents")
            rounds.append((point, references))
        }
        for (point, references) in rounds {
            try lab.assertRestores(point, equal: references)
        }
        try lab.assertRestores(rounds.last!.0, equal: rounds.last!.1, format: .raw)
    }

    func testARangeZeroedAfterAFullRestoresAsZero() throws {
        let vm = try lab.domain()
        try vm.write("vda", offset: 2 * .mib, length: 6 * .mib, pattern: 0x5A)
        _ = try lab.backup(vm)
        try vm.zero("vda", offset: 3 * .mib, length: 2 * .mib)
        let (point, references) = try lab.backupWithReference(vm, tag: "zeroed")
        XCTAssertEqual(point.disks[0].mode, .incremental)
        try lab.assertRestores(point, equal: references)
    }

    func testTheCheckpointChainKeepsOnlyVBackupsNewestCheckpoint() throws {
        let vm = try lab.domain()
        _ = try lab.backup(vm)
        _ = try lab.backup(vm)
        let third = try lab.backup(vm)
        let names = try vm.domain.checkpoints().map(\.name)
        XCTAssertEqual(names, [third.disks[0].checkpoint!])
    }
}
