import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import VBackupDrill
import XCTest

/// The sandbox made from a production VM's XML with every kind of device that could reach
/// outside the drill or clash with the VM itself.
final class SandboxDomainTests: XCTestCase {
    let folder = URL(fileURLWithPath: "/var/lib/libvirt/images/vbackup-drills/drill-20261122-101500-beef/vbdrill-101500beef-prod")
    let marker = SandboxMarker(drillID: "drill-20261122-101500-beef", vm: "prod", pointID: "p1", host: "hv1",
                               owner: ProcessIdentity(pid: 4242, startTicks: 777), folder: "/x/drill-1/vbdrill-1", kept: false)

    /// Paths of the production VM that must not appear in the sandbox in any form.
    let productionPaths = ["/var/lib/libvirt/images/prod-vda.qcow2", "/dev/vg/prod-data", "/iso/install.iso", "/var/log/prod-serial.log",
                           "/var/lib/libvirt/qemu/nvram/prod_VARS.fd", "/run/prod-agent.sock", "/srv/share", "/dev/lp0",
                           "/var/log/prod-serial-extra.log", "/dev/shm/prod-nvdimm", "/tmp/vnc-prod.sock", "/etc/qemu-ifup-prod",
                           "/run/vhost-prod.sock", "/dev/input/event3", "/var/log/prod-console-log.log"]

    lazy var production = """
        <domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
          <name>prod</name><uuid>6c1a2b3c-0000-4000-8000-000000000001</uuid><title>Production</title>
          <genid>e4ebbe38-5f4f-4e83-96a8-a0b79bf4e8ef</genid>
          <metadata><vbackup:backup xmlns:vbackup="https://vbackup.dev/xmlns/domain/1"><vbackup:tag>prod</vbackup:tag></vbackup:backup></metadata>
          <memory unit='MiB'>1024</memory><maxMemory slots='4' unit='MiB'>4096</maxMemory><vcpu>2</vcpu>
          <os><type arch='x86_64' machine='q35'>hvm</type>
            <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
            <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>/var/lib/libvirt/qemu/nvram/prod_VARS.fd</nvram></os>
          <devices>
            <emulator>/usr/bin/qemu-system-x86_64</emulator>
            <disk type='file' device='disk'><driver name='qemu' type='qcow2' cache='none'/>
              <source file='/var/lib/libvirt/images/prod-vda.qcow2'/><backingStore/><target dev='vda' bus='virtio'/>
              <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/></disk>
            <disk type='block' device='disk'><driver name='qemu' type='raw'/><source dev='/dev/vg/prod-data'/><target dev='vdb' bus='virtio'/></disk>
            <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/iso/install.iso'/><target dev='sda' bus='sata'/><readonly/></disk>
            <disk type='file' device='disk'><source file='/var/lib/libvirt/images/not-in-point.qcow2'/><target dev='vdc' bus='virtio'/></disk>
            <interface type='bridge'><mac address='52:54:00:aa:bb:01'/><source bridge='br-lan'/><model type='virtio'/>
              <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></interface>
            <interface type='network'><mac address='52:54:00:aa:bb:02'/><source network='default'/><model type='e1000e'/>
              <filterref filter='clean-traffic'/></interface>
            <interface type='direct'><mac address='52:54:00:aa:bb:03'/><source dev='eth0' mode='bridge'/></interface>
            <interface type='ethernet'><mac address='52:54:00:aa:bb:04'/><script path='/etc/qemu-ifup-prod'/><target dev='tap-prod'/></interface>
            <interface type='vhostuser'><mac address='52:54:00:aa:bb:05'/><source type='unix' path='/run/vhost-prod.sock' mode='client'/></interface>
            <hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x06' slot='0x00' function='0x0'/></source></hostdev>
            <redirdev bus='usb' type='spicevmc'/>
            <filesystem type='mount' accessmode='passthrough'><driver type='virtiofs'/><source dir='/srv/share'/><target dir='share'/></filesystem>
            <smartcard mode='passthrough' type='spicevmc'/>
            <shmem name='prod-shm'><model type='ivshmem-plain'/><size unit='M'>4</size></shmem>
            <vsock model='virtio'><cid auto='no' address='3'/></vsock>
            <tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>
            <memory model='nvdimm'><source><path>/dev/shm/prod-nvdimm</path></source><target><size unit='MiB'>512</size><node>0</node></target></memory>
            <memory model='dimm'><target><size unit='MiB'>512</size><node>0</node></target></memory>
            <serial type='file'><source path='/var/log/prod-serial.log'/><target port='0'/>
              <log file='/var/log/prod-console-log.log'/></serial>
            <serial type='tcp'><source mode='bind' host='0.0.0.0' service='4555'/><protocol type='telnet'/><target port='1'/></serial>
            <serial type='file'><source path='/var/log/prod-serial-extra.log'/><target port='2'/></serial>
            <console type='pty'><target type='serial' port='0'/></console>
            <parallel type='dev'><source path='/dev/lp0'/><target port='0'/></parallel>
            <channel type='unix'><source mode='bind' path='/run/prod-agent.sock'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
            <channel type='spicevmc'><target type='virtio' name='com.redhat.spice.0'/></channel>
            <channel type='tcp'><source mode='connect' host='10.0.0.9' service='9999'/><target type='guestfwd' address='10.0.2.1' port='4600'/></channel>
            <channel type='pipe'><source path='/tmp/prod-pipe'/><target type='virtio' name='org.example.pipe'/></channel>
            <input type='passthrough' bus='virtio'><source evdev='/dev/input/event3'/></input>
            <input type='tablet' bus='usb'/>
            <graphics type='vnc' port='5901' autoport='no' listen='0.0.0.0' websocket='5701'><listen type='address' address='0.0.0.0'/></graphics>
            <graphics type='vnc' socket='/tmp/vnc-prod.sock'/>
            <graphics type='spice' port='5902' tlsPort='5903' autoport='no'><listen type='network' network='default'/></graphics>
            <graphics type='sdl' display=':0'/>
            <audio id='1' type='pulseaudio' serverName='10.0.0.7'/>
            <rng model='virtio'><backend model='egd' type='tcp'><source mode='connect' host='10.0.0.8' service='708'/></backend></rng>
            <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
            <watchdog model='i6300esb' action='reset'/>
          </devices>
          <qemu:commandline><qemu:arg value='-netdev'/><qemu:arg value='user,id=escape'/></qemu:commandline>
        </domain>
        """

    func sandbox(_ network: SandboxDomain.Network = .none) throws -> (SandboxDomain.Result, XMLElement) {
        let images = ["vda": SandboxDomain.Disk(path: folder.appendingPathComponent("vda.qcow2").path, format: "qcow2"),
                      "vdb": SandboxDomain.Disk(path: folder.appendingPathComponent("vdb.qcow2").path, format: "qcow2")]
        let result = try SandboxDomain(name: "vbdrill-101500beef-prod", disks: images, folder: folder, network: network, marker: marker,
                                       description: "drill").make(from: production)
        let root = try XMLDocument(xmlString: result.xml, options: []).rootElement()!
        return (result, root)
    }

    func testTheSandboxHasItsOwnNameNoUUIDNoMACAndOnlyTheDrillMarker() throws {
        let (result, root) = try sandbox()
        XCTAssertEqual(try root.nodes(forXPath: "name").first?.stringValue, "vbdrill-101500beef-prod")
        XCTAssertTrue(try root.nodes(forXPath: "uuid").isEmpty, "libvirt assigns a new UUID")
        XCTAssertFalse(result.xml.contains("52:54:00:aa:bb"), "no MAC address is kept")
        XCTAssertFalse(result.xml.contains("e4ebbe38"), "a new VM generation id")
        XCTAssertFalse(result.xml.contains("vbackup:tag"), "no vbackup tag: no policy would back the sandbox up")
        XCTAssertFalse(result.xml.contains("Production"))
        XCTAssertEqual(SandboxMarker.find(inXML: result.xml), marker)
    }

    func testOnlyThePointsDisksRemainEachOnItsScratchImage() throws {
        let (_, root) = try sandbox()
        let disks = try root.nodes(forXPath: "devices/disk").compactMap { $0 as? XMLElement }
        XCTAssertEqual(disks.count, 2, "cdrom and the disk not in the point are gone")
        for disk in disks {
            XCTAssertEqual(disk.attribute(forName: "type")?.stringValue, "file")
            let source = disk.elements(forName: "source").first?.attribute(forName: "file")?.stringValue ?? ""
            XCTAssertTrue(source.hasPrefix(folder.path + "/"), source)
            XCTAssertEqual(disk.elements(forName: "driver").first?.attribute(forName: "type")?.stringValue, "qcow2")
            XCTAssertTrue(disk.elements(forName: "backingStore").isEmpty)
        }
        XCTAssertEqual(try root.nodes(forXPath: "devices/disk[1]/address/@bus").first?.stringValue, "0x04", "the guest sees the same slot")
    }

    func testNoProductionPathAndNoWritableFileOutsideTheScratchFolder() throws {
        let (result, root) = try sandbox()
        for path in productionPaths { XCTAssertFalse(result.xml.contains(path), "\(path) is still in the sandbox XML") }
        let written = try root.nodes(forXPath: "//@file | //@path | os/nvram").compactMap(\.stringValue)
        XCTAssertFalse(written.isEmpty)
        for path in written { XCTAssertTrue(path.hasPrefix(folder.path + "/"), "\(path) is outside the scratch folder") }
        XCTAssertEqual(result.nvramPath, folder.appendingPathComponent("nvram.fd").path)
        XCTAssertEqual(try root.nodes(forXPath: "os/nvram/@template").first?.stringValue, "/usr/share/OVMF/OVMF_VARS_4M.fd")
        XCTAssertEqual(try root.nodes(forXPath: "os/loader").first?.stringValue, "/usr/share/OVMF/OVMF_CODE_4M.fd", "read-only firmware is kept")
    }

    func testNothingThatReachesOutsideTheHostOrTheDrillIsLeft() throws {
        let (result, root) = try sandbox()
        for kind in ["interface", "hostdev", "redirdev", "filesystem", "smartcard", "shmem", "vsock", "tpm", "parallel[@type='dev']"] {
            XCTAssertTrue(try root.nodes(forXPath: "devices/\(kind)").isEmpty, "\(kind) is still there")
        }
        XCTAssertTrue(try root.nodes(forXPath: "devices/memory[@model='nvdimm']").isEmpty)
        XCTAssertEqual(try root.nodes(forXPath: "devices/memory[@model='dimm']").count, 1, "plain RAM stays")
        XCTAssertTrue(try root.nodes(forXPath: "devices/input[@type='passthrough']").isEmpty)
        XCTAssertEqual(try root.nodes(forXPath: "devices/rng").count, 1, "only the local random source")
        XCTAssertFalse(result.xml.contains("commandline"), "no QEMU passthrough")
        XCTAssertFalse(result.xml.contains("10.0.0."), "no remote host of any kind")
        XCTAssertEqual(try root.nodes(forXPath: "devices/audio/@type").first?.stringValue, "none")
        let charTypes = try root.nodes(forXPath: "devices/serial/@type | devices/console/@type | devices/parallel/@type").compactMap(\.stringValue)
        XCTAssertEqual(Set(charTypes), ["file"], "tcp and dev ports became files")
        let channels = try root.nodes(forXPath: "devices/channel/target/@name").compactMap(\.stringValue)
        XCTAssertEqual(Set(channels), ["org.qemu.guest_agent.0", "com.redhat.spice.0"], "guestfwd and pipe channels are gone")
        XCTAssertTrue(try root.nodes(forXPath: "devices/channel[@type='unix']/source").isEmpty, "libvirt picks the agent's socket")
        XCTAssertTrue(result.hasGuestAgent)
    }

    func testGraphicsListenOnlyOnLoopbackOnAnyFreePort() throws {
        let (_, root) = try sandbox()
        let graphics = try root.nodes(forXPath: "devices/graphics").compactMap { $0 as? XMLElement }
        XCTAssertEqual(graphics.compactMap { $0.attribute(forName: "type")?.stringValue }, ["vnc", "vnc", "spice"], "sdl is gone")
        for element in graphics {
            XCTAssertEqual(element.attribute(forName: "autoport")?.stringValue, "yes")
            for name in ["port", "tlsPort", "websocket", "socket"] { XCTAssertNil(element.attribute(forName: name), name) }
            XCTAssertEqual(element.attribute(forName: "listen")?.stringValue, "127.0.0.1")
            let listens = element.elements(forName: "listen")
            XCTAssertEqual(listens.count, 1)
            XCTAssertEqual(listens.first?.attribute(forName: "address")?.stringValue, "127.0.0.1")
        }
    }

    func testTheFirstSerialPortIsTheConsoleLogAndTheConsoleMirrorsIt() throws {
        let (result, root) = try sandbox()
        let serial0 = folder.appendingPathComponent("serial0-prod-serial.log").path
        XCTAssertEqual(result.consoleLog, serial0)
        XCTAssertEqual(try root.nodes(forXPath: "devices/serial[1]/source/@path").first?.stringValue, serial0)
        XCTAssertEqual(try root.nodes(forXPath: "devices/console/source/@path").first?.stringValue, serial0)
        XCTAssertEqual(try root.nodes(forXPath: "devices/serial[3]/source/@path").first?.stringValue,
                       folder.appendingPathComponent("serial2-prod-serial-extra.log").path)
    }

    func testAPtySerialPortIsLoggedToAFileForTheConsoleCheck() throws {
        let xml = """
            <domain type='qemu'><name>vm</name><devices>
              <serial type='pty'><target port='0'/></serial><console type='pty'><target type='serial' port='0'/></console>
            </devices></domain>
            """
        let result = try SandboxDomain(name: "vbdrill-x-vm", disks: [:], folder: folder, network: .none, marker: marker, description: "d")
            .make(from: xml)
        XCTAssertEqual(result.consoleLog, folder.appendingPathComponent("console.log").path)
        XCTAssertTrue(result.xml.contains("<log file=\"\(folder.path)/console.log\" append=\"off\""), result.xml)
        XCTAssertFalse(result.hasGuestAgent)
    }

    func testIsolatedModeMovesEveryInterfaceOntoTheDrillNetworkKeepingOnlyWhatTheGuestSees() throws {
        let (result, root) = try sandbox(.isolated(name: "vbdrill-101500beef-net0"))
        let interfaces = try root.nodes(forXPath: "devices/interface").compactMap { $0 as? XMLElement }
        XCTAssertEqual(interfaces.count, 5)
        for interface in interfaces {
            XCTAssertEqual(interface.attribute(forName: "type")?.stringValue, "network")
            XCTAssertEqual(interface.elements(forName: "source").first?.attribute(forName: "network")?.stringValue, "vbdrill-101500beef-net0")
            let parts = Set((interface.children ?? []).compactMap(\.name))
            XCTAssertTrue(parts.isSubset(of: ["source", "model", "address", "boot", "link", "mtu"]), "\(parts)")
        }
        XCTAssertEqual(try root.nodes(forXPath: "devices/interface[1]/model/@type").first?.stringValue, "virtio")
        XCTAssertFalse(result.xml.contains("br-lan"))
        XCTAssertFalse(result.xml.contains("clean-traffic"))
        XCTAssertFalse(result.xml.contains("<mac"))
    }

    func testTheIsolatedNetworkHasNoForwardNoAddressAndNoDHCP() throws {
        let xml = SandboxNetwork.xml(name: "vbdrill-1-net0", marker: marker)
        let root = try XMLDocument(xmlString: xml, options: []).rootElement()!
        XCTAssertTrue(try root.nodes(forXPath: "forward | ip | dhcp | domain").isEmpty)
        XCTAssertEqual(SandboxMarker.find(inXML: xml), marker)
    }
}
