@testable import BackupEngine
import Foundation
import XCTest

final class DomainXMLTests: XCTestCase {
    /// A domain that vanished between listing and reading leaves its reader an empty string;
    /// parsing it is an error (Foundation's XMLDocument alone would crash the process).
    func testAnEmptyDomainXMLIsAnErrorNotACrash() {
        XCTAssertThrowsError(try XMLParsing.document(""))
        XCTAssertThrowsError(try XMLParsing.document(" \n"))
        XCTAssertEqual(DomainDisk.all(xml: ""), [])
        XCTAssertNoThrow(try XMLParsing.document("<domain/>"))
    }

    let xml = """
        <domain type='qemu'><name>web</name><uuid>6c1a2b3c-0000-4000-8000-000000000001</uuid>
          <os><type>hvm</type><nvram>/var/lib/libvirt/qemu/nvram/web_VARS.fd</nvram></os>
          <devices>
            <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/img/web.qcow2'/><target dev='vda' bus='virtio'/></disk>
            <disk type='file' device='cdrom'><source file='/iso/x.iso'/><target dev='sda' bus='sata'/></disk>
            <disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/vg/web'/><target dev='vdb' bus='virtio'/></disk>
            <interface type='network'><mac address='52:54:00:11:22:33'/><source network='default'/></interface>
            <serial type='file'><source path='/var/log/web-serial.log'/></serial>
          </devices></domain>
        """

    func testDisksAreReadAndCdromsLeftOut() throws {
        let description = try DomainDescription(xml: xml)
        XCTAssertEqual(description.name, "web")
        XCTAssertEqual(description.disks.map(\.target), ["vda", "vdb"])
        XCTAssertEqual(description.disks[1].sourcePath, "/dev/vg/web")
        XCTAssertEqual(description.disks[1].sourceType, "block")
        XCTAssertEqual(description.nvramPath, "/var/lib/libvirt/qemu/nvram/web_VARS.fd")
    }

    func testARestoredDefinitionCannotClashWithTheOriginal() throws {
        let rewriter = DomainXMLRewriter(newName: "web-restored",
                                         disks: ["vda": ("/restore/web-restored-vda.qcow2", "qcow2"), "vdb": ("/restore/web-restored-vdb.raw", "raw")],
                                         directory: URL(fileURLWithPath: "/restore"), nvramPath: "/restore/web-restored_VARS.fd")
        let out = try rewriter.rewrite(xml)
        let parsed = try DomainDescription(xml: out)
        XCTAssertEqual(parsed.name, "web-restored")
        XCTAssertEqual(parsed.uuid, "", "libvirt assigns a new UUID")
        XCTAssertEqual(parsed.disks.map(\.sourcePath), ["/restore/web-restored-vda.qcow2", "/restore/web-restored-vdb.raw"])
        XCTAssertEqual(parsed.disks.map(\.sourceType), ["file", "file"])
        XCTAssertFalse(out.contains("52:54:00:11:22:33"), "MAC addresses are regenerated")
        XCTAssertFalse(out.contains("/var/log/web-serial.log"))
        XCTAssertTrue(out.contains("/restore/web-restored-web-serial.log"))
        XCTAssertEqual(parsed.nvramPath, "/restore/web-restored_VARS.fd")
        XCTAssertTrue(out.contains("/iso/x.iso"), "read-only cdrom media is shared, not restored")
    }

    func testADiskWithoutADriverTypeGetsTheRestoredFormat() throws {
        let bare = "<domain><name>a</name><devices><disk type='file' device='disk'><source file='/i/a.img'/><target dev='vda'/></disk></devices></domain>"
        let out = try DomainXMLRewriter(newName: "b", disks: ["vda": ("/r/b-vda.qcow2", "qcow2")], directory: URL(fileURLWithPath: "/r"), nvramPath: nil)
            .rewrite(bare)
        XCTAssertEqual(try DomainDescription(xml: out).disks.map(\.format), ["qcow2"], "libvirt would otherwise open the qcow2 as raw")
    }

    func testBackupXMLNamesEachDiskModeAndExcludesRawDisksFromTheCheckpoint() {
        let disks = [BackupXML.DiskRequest(target: "vda", incrementalFrom: "vbackup-1", tracksChanges: true, scratchPath: "/j/vda.scratch"),
                     BackupXML.DiskRequest(target: "vdb", incrementalFrom: nil, tracksChanges: false, scratchPath: "/j/vdb.scratch")]
        let backup = BackupXML.backup(socketPath: "/j/nbd.sock", disks: disks)
        XCTAssertTrue(backup.contains("<incremental>vbackup-1</incremental>"))
        XCTAssertTrue(backup.contains("name='vdb' backup='yes' type='file' backupmode='full'"))
        let checkpoint = BackupXML.checkpoint(name: "vbackup-2", disks: disks, excluded: []) ?? ""
        XCTAssertTrue(checkpoint.contains("<disk name='vda' checkpoint='bitmap'/>"))
        XCTAssertTrue(checkpoint.contains("<disk name='vdb' checkpoint='no'/>"))
    }

    func testLibvirtErrorsNameTheBrokenDisk() {
        XCTAssertEqual(OnlineBackup.diskNamed(in: "checkpoint inconsistent: missing or broken bitmap 'vbackup-1' for disk 'vda'"), "vda")
        XCTAssertNil(OnlineBackup.diskNamed(in: "unrelated"))
    }
}
