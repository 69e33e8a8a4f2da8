import CLibvirt
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One libvirt virtual network. Owns its `virNetworkPtr` (freed in deinit).
///
/// vbackup only makes transient networks (drill sandboxes' isolated networks): they exist until
/// destroyed or until libvirtd restarts, and never outlive the host's next boot.
///
/// `@unchecked Sendable`: libvirt object handles are thread-safe and this class has no mutable state.
public final class LibvirtNetwork: @unchecked Sendable {
    let pointer: virNetworkPtr
    public let name: String

    init(taking pointer: virNetworkPtr) throws {
        self.pointer = pointer
        guard let cName = virNetworkGetName(pointer) else {
            let err = lastLibvirtError("virNetworkGetName failed")
            virNetworkFree(pointer)
            throw err
        }
        name = String(cString: cName)
    }

    deinit { virNetworkFree(pointer) }

    public var isActive: Bool {
        get throws { try check(virNetworkIsActive(pointer), "virNetworkIsActive(\(name)) failed") == 1 }
    }

    public var isPersistent: Bool {
        get throws { try check(virNetworkIsPersistent(pointer), "virNetworkIsPersistent(\(name)) failed") == 1 }
    }

    public func xml() throws -> String {
        try takeString(virNetworkGetXMLDesc(pointer, 0), "virNetworkGetXMLDesc(\(name)) failed")
    }

    /// Stops the network (a transient one is then gone).
    public func destroy() throws { try check(virNetworkDestroy(pointer), "virNetworkDestroy(\(name)) failed") }

    /// Removes a persistent network's definition.
    public func undefine() throws { try check(virNetworkUndefine(pointer), "virNetworkUndefine(\(name)) failed") }
}

extension LibvirtConnection {
    /// Creates and starts a transient network from XML.
    public func createNetwork(xml: String) throws -> LibvirtNetwork {
        try LibvirtNetwork(taking: try check(virNetworkCreateXML(pointer, xml), "virNetworkCreateXML failed"))
    }

    /// The network named `name`; throws `noNetwork` when there is none.
    public func lookupNetwork(_ name: String) throws -> LibvirtNetwork {
        try LibvirtNetwork(taking: try check(virNetworkLookupByName(pointer, name), "virNetworkLookupByName(\(name)) failed"))
    }

    /// Every network libvirt knows, active or not.
    public func listAllNetworks() throws -> [LibvirtNetwork] {
        var list: UnsafeMutablePointer<virNetworkPtr?>?
        let count = try check(virConnectListAllNetworks(pointer, &list, 0), "virConnectListAllNetworks failed")
        defer { free(list) }
        var networks: [LibvirtNetwork] = []
        for i in 0..<Int(count) {
            guard let net = list?[i] else { continue }
            networks.append(try LibvirtNetwork(taking: net))
        }
        return networks
    }
}
