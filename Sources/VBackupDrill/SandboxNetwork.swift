import Foundation
import LibvirtClient

/// The isolated network a sandbox's interfaces join with `--network isolated`: a transient
/// libvirt bridge with no `<forward>` (no route to anything), no `<ip>` (no host address, no
/// DHCP or DNS server), so the guest sees its NICs up but can reach nothing but other sandbox
/// NICs on the same bridge. Transient: it is gone at the latest when libvirtd restarts.
enum SandboxNetwork {
    static func xml(name: String, marker: SandboxMarker) -> String {
        """
        <network>
          <name>\(XMLText.escape(name))</name>
          <metadata>\(marker.element)</metadata>
          <bridge stp='off' delay='0'/>
          <dns enable='no'/>
        </network>
        """
    }

    static func create(name: String, marker: SandboxMarker, connection: LibvirtConnection) throws -> LibvirtNetwork {
        try connection.createNetwork(xml: xml(name: name, marker: marker))
    }

    static func remove(_ network: LibvirtNetwork) throws {
        if try network.isActive { try network.destroy() }
        if (try? network.isPersistent) == true { try network.undefine() }
    }
}
