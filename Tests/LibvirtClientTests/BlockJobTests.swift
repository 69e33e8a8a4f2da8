import Foundation
import LibvirtClient
import Testing

/// Block pull, job info, speed and abort on a running TCG domain whose disk is a qcow2 overlay
/// over a read-only NBD export (`qemu-nbd -r` serving a raw image): the shape instant restore
/// runs a VM in until the pull has made its disk local.
@Suite("Block jobs: pull from an NBD backing")
struct BlockJobTests {
    static let mib: UInt64 = 1 << 20

    @Test func pullCopiesTheBackingIntoTheOverlayAndLibvirtDropsIt() throws {
        let vm = try OverlayDomain()
        defer { vm.tearDown() }
        #expect(try vm.liveBackingIsNBD(), "the running disk reads through the export")

        try vm.dom.blockPull(disk: "vda", bytesPerSecond: 4 * Self.mib)
        let first = try #require(try vm.dom.blockJobInfo(disk: "vda"))
        #expect(first.kind == .pull)
        #expect(first.bandwidth == 4 * Self.mib)
        #expect(first.end == OverlayDomain.diskSize && first.cur <= first.end)

        try vm.dom.setBlockJobSpeed(disk: "vda", bytesPerSecond: 0)
        var readings: [BlockJobInfo] = []
        let last = try vm.dom.waitForBlockJob(disk: "vda", interval: 0.05) { readings.append($0) }
        #expect(readings.allSatisfy { $0.bandwidth == 0 }, "the new speed applies to the running job")
        #expect(zip(readings, readings.dropFirst()).allSatisfy { $0.cur <= $1.cur }, "progress only moves forward")
        #expect(last?.end == OverlayDomain.diskSize)
        #expect(try vm.dom.blockJobInfo(disk: "vda") == nil)

        #expect(try !vm.liveBackingIsNBD(), "libvirt dropped the NBD backing from the live XML")
        #expect(vm.export.waitForExit(timeout: 5) != nil, "QEMU closed its connection: the export, its only client gone, exited")
        #expect(!(try shell("qemu-img", "info", "-U", vm.overlay).contains("backing file")), "the overlay's header has no backing")
        #expect(try vm.dom.runState() == .running, "the guest ran throughout")
        // The overlay alone now holds the export's bytes: compare it, standalone, with the served
        // image. Pausing makes QEMU flush its cached qcow2 metadata into the file first.
        try vm.dom.suspend()
        try shell("qemu-img", "compare", "-U", "-q", vm.overlay, vm.base)
    }

    @Test func abortStopsAPullAndKeepsTheBacking() throws {
        let vm = try OverlayDomain()
        defer { vm.tearDown() }
        try vm.dom.blockPull(disk: "vda", bytesPerSecond: Self.mib)
        #expect(try vm.dom.blockJobInfo(disk: "vda") != nil)
        try vm.dom.abortBlockJob(disk: "vda")
        #expect(try vm.dom.blockJobInfo(disk: "vda") == nil)
        #expect(try vm.liveBackingIsNBD(), "an aborted pull leaves the disk on its backing")
        #expect(try shell("qemu-img", "info", "-U", vm.overlay).contains("backing file: nbd+unix"))
    }

    @Test func noJobAndUnknownDisksAreReported() throws {
        let vm = try OverlayDomain()
        defer { vm.tearDown() }
        #expect(try vm.dom.blockJobInfo(disk: "vda") == nil)
        #expect(try vm.dom.waitForBlockJob(disk: "vda") == nil)
        #expect(throws: LibvirtError.self) { try vm.dom.blockPull(disk: "vdz") }
        let abort = #expect(throws: LibvirtError.self) { try vm.dom.abortBlockJob(disk: "vda") }
        #expect(abort?.message.contains("does not have an active block job") == true, "\(String(describing: abort))")
    }
}

/// A running TCG domain whose `vda` is a qcow2 overlay backed by `nbd+unix:///vda?socket=…`,
/// served read-only by `qemu-nbd` from a 64 MiB image holding two patterned ranges (NBD
/// serves its bytes, so the overlay's backing format is raw). QEMU is the export's only client
/// (`qemu-img create -u` never opens it). The socket is group libvirt-qemu, mode 0660: QEMU
/// connects as that user.
final class OverlayDomain {
    static let diskSize: UInt64 = 64 << 20

    let name = "vbackup-bjt-\(randomSuffix())"
    let directory: String
    let base: String
    let overlay: String
    let socket: String
    let connection: LibvirtConnection
    let export: QemuNBDServer
    private(set) var domain: LibvirtDomain?

    var dom: LibvirtDomain { domain! }

    init() throws {
        directory = "/var/lib/libvirt/images/\(name)"
        base = "\(directory)/base.qcow2"
        overlay = "\(directory)/overlay.qcow2"
        socket = "\(directory)/export.sock"
        connection = try LibvirtConnection(uri: TestDomain.uri)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        do {
            try shell("qemu-img", "create", "-q", "-f", "qcow2", base, "64M")
            try shell("qemu-io", "-f", "qcow2", "-c", "write -q -P 0x11 1M 3M", "-c", "write -q -P 0x22 40M 2M", base)
            export = try QemuNBDServer(image: base, socket: socket, readOnly: true)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        do {
            try shell("chgrp", "libvirt-qemu", socket)
            try shell("chmod", "0660", socket)
            try shell("qemu-img", "create", "-q", "-u", "-f", "qcow2", "-F", "raw", "-b", "nbd+unix:///vda?socket=\(socket)", overlay, "64M")
            let dom = try connection.defineDomain(xml: xml)
            domain = dom
            try dom.start()
        } catch {
            tearDown()
            throw error
        }
    }

    /// Whether the live XML still shows `vda` reading through an NBD backing.
    func liveBackingIsNBD() throws -> Bool {
        let xml = try dom.xml()
        return xml.contains("<backingStore type='network'") && xml.contains("protocol='nbd'")
    }

    func tearDown() {
        if let domain {
            try? domain.destroy()
            try? domain.undefine(checkpointsMetadata: true, nvram: false)
            self.domain = nil
        }
        export.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private var xml: String {
        """
        <domain type='qemu'><name>\(name)</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
          <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><features><acpi/></features>
          <devices>
            <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
              <source file='\(overlay)'/><target dev='vda' bus='virtio'/></disk>
            <video><model type='none'/></video><memballoon model='none'/>
          </devices>
        </domain>
        """
    }
}
