import Foundation
import LibvirtClient

/// A real, running TCG domain with a blank 64 MiB qcow2 v3 disk on virtio `vda`, for tests.
/// Its image lives in `/var/lib/libvirt/images/<name>/`; `socketDir` under
/// `/var/lib/libvirt/qemu/` is owned by libvirt-qemu so QEMU can create NBD sockets and
/// scratch files there. Call `tearDown()` in a `defer`: it destroys, undefines (dropping
/// checkpoint metadata) and removes both folders, and tolerates a half-built fixture or a
/// domain the test already undefined. `bootSector` goes into the disk's first 512 bytes, for a
/// guest that runs code (`GuestDiskLoop`); without one the domain idles in firmware.
final class TestDomain {
    static let uri = "qemu:///system"
    static let diskSize: UInt64 = 64 << 20

    let name: String
    let imageDir: String
    let imagePath: String
    let socketDir: String
    let connection: LibvirtConnection
    private(set) var domain: LibvirtDomain?

    init(bootSector: [UInt8]? = nil, connection: LibvirtConnection? = nil) throws {
        name = "vbackup-test-\(randomSuffix())"
        imageDir = "/var/lib/libvirt/images/\(name)"
        imagePath = "\(imageDir)/vda.qcow2"
        socketDir = "/var/lib/libvirt/qemu/\(name)"
        self.connection = try connection ?? LibvirtConnection(uri: Self.uri)
        do {
            for dir in [imageDir, socketDir] {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
            }
            try shell("qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=1.1", imagePath, "64M")
            if let bootSector { try writeBootSector(bootSector) }
            try shell("chown", "-R", "libvirt-qemu:libvirt-qemu", imageDir, socketDir)
            let dom = try self.connection.defineDomain(xml: domainXML)
            domain = dom
            try dom.start()
        } catch {
            tearDown()
            throw error
        }
    }

    /// The domain; only nil after a failed init, which has already thrown.
    var dom: LibvirtDomain { domain! }

    /// Path for a file QEMU creates (socket, scratch image) inside `socketDir`.
    func path(_ file: String) -> String { "\(socketDir)/\(file)" }

    func tearDown() {
        if let domain {
            if (try? domain.runState()) != .shutoff { try? domain.destroy() }
            do { try domain.undefine(checkpointsMetadata: true, nvram: false) } catch let error as LibvirtError where error.code == LibvirtError.noDomain {
                // The test undefined it already.
            } catch {
                print("TestDomain: could not undefine \(name): \(error)")
            }
            self.domain = nil
        }
        for dir in [imageDir, socketDir] { try? FileManager.default.removeItem(atPath: dir) }
    }

    private func writeBootSector(_ bytes: [UInt8]) throws {
        precondition(bytes.count == 512)
        let file = "\(imageDir)/mbr.bin"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        try shell("qemu-io", "-f", "qcow2", "-c", "write -q -s \(file) 0 512", imagePath)
    }

    private var domainXML: String {
        """
        <domain type='qemu'>
          <name>\(name)</name>
          <memory unit='MiB'>64</memory>
          <vcpu>1</vcpu>
          <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
          <features><acpi/></features>
          <devices>
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2'/>
              <source file='\(imagePath)'/>
              <target dev='vda' bus='virtio'/>
            </disk>
            <video><model type='none'/></video>
            <memballoon model='none'/>
          </devices>
        </domain>
        """
    }
}
