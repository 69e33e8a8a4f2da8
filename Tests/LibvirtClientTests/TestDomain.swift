import Foundation
import LibvirtClient

/// A real, running TCG domain with a blank 64 MiB qcow2 v3 disk on virtio `vda`, for tests.
/// Its image lives in `/var/lib/libvirt/images/<name>/`; `socketDir` under
/// `/var/lib/libvirt/qemu/` is owned by libvirt-qemu so QEMU can create NBD sockets and
/// scratch files there. Call `tearDown()` in a `defer`: it destroys, undefines (dropping
/// checkpoint metadata) and removes both folders, and tolerates a half-built fixture.
final class TestDomain {
    static let uri = "qemu:///system"
    static let diskSize: UInt64 = 64 << 20

    let name: String
    let imageDir: String
    let imagePath: String
    let socketDir: String
    let connection: LibvirtConnection
    private(set) var domain: LibvirtDomain?

    init() throws {
        name = "vbackup-test-\(randomSuffix())"
        imageDir = "/var/lib/libvirt/images/\(name)"
        imagePath = "\(imageDir)/vda.qcow2"
        socketDir = "/var/lib/libvirt/qemu/\(name)"
        connection = try LibvirtConnection(uri: Self.uri)
        do {
            for dir in [imageDir, socketDir] {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
            }
            try shell("qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=1.1", imagePath, "64M")
            try shell("chown", "-R", "libvirt-qemu:libvirt-qemu", imageDir, socketDir)
            let dom = try connection.defineDomain(xml: domainXML)
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
            do { try domain.undefine(checkpointsMetadata: true, nvram: false) } catch {
                print("TestDomain: could not undefine \(name): \(error)")
            }
            self.domain = nil
        }
        for dir in [imageDir, socketDir] { try? FileManager.default.removeItem(atPath: dir) }
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
