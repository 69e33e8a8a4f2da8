import BackupEngine
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Turns a point's saved domain XML into a drill sandbox that can run beside the production VM,
/// even while that VM runs, and cannot reach anything outside the drill:
///
/// - a new name, no UUID (libvirt makes one), no MACs (libvirt makes new ones), a fresh VM
///   generation id, no title, the drill's marker as the only metadata (so no vbackup tag makes
///   a policy back the sandbox up);
/// - only the point's disks, each on the drill's image in the scratch folder (cdroms, floppies,
///   LUNs and disks the point lacks are left out); NVRAM in the scratch folder;
/// - no network (`none`) or every interface on the drill's isolated network, rebuilt from its
///   model and guest address only (no host bridge, direct, vhost-user, script, filter, port);
/// - serial, console and parallel ports as files (or pty/null) in the scratch folder, with the
///   first serial port's output logged for the console check; channels kept only when they stay
///   on the host (the guest agent, on a socket libvirt picks; spice/vdagent), the rest removed;
/// - graphics only on 127.0.0.1 with an automatic port (no fixed port, websocket or socket);
///   audio muted;
/// - removed: host devices, USB redirection, shared folders (filesystem, virtiofs), smartcards,
///   shared memory, vsock, TPM (its state would outlive the sandbox), NVDIMM/pmem backed by host
///   files, input passthrough, egd RNGs, lock leases, and QEMU command-line passthrough.
///
/// Kernel, initrd, DTB and firmware loader paths are kept: they are host files QEMU only reads.
struct SandboxDomain {
    enum Network: Equatable {
        case none
        case isolated(name: String)
    }

    struct Disk {
        var path: String
        /// The image's format as QEMU opens it (`qcow2` for an overlay).
        var format: String
    }

    /// What the rewrite made, beside the XML, for the checks and the teardown.
    struct Result {
        var xml: String
        /// The file the first serial port writes to: what the console check tails.
        var consoleLog: String?
        /// Whether the sandbox keeps the QEMU guest agent's channel.
        var hasGuestAgent: Bool
        var nvramPath: String?
    }

    static let guestAgentChannel = "org.qemu.guest_agent.0"
    static let qemuNamespace = "http://libvirt.org/schemas/domain/qemu/1.0"

    var name: String
    /// Image per disk target.
    var disks: [String: Disk]
    /// The VM's scratch folder: every file the sandbox writes goes here.
    var folder: URL
    var network: Network
    var marker: SandboxMarker
    var description: String

    func make(from xml: String) throws -> Result {
        let doc: XMLDocument
        do {
            doc = try XMLParsing.document(xml)
        } catch {
            throw DrillError.invalidDomainXML("\(error)")
        }
        guard let root = doc.rootElement(), root.name == "domain" else { throw DrillError.invalidDomainXML("no <domain> element") }
        try rewriteIdentity(root)
        let nvram = try rewriteFirmware(root)
        if let devices = root.elements(forName: "devices").first {
            try rewriteDevices(devices)
        }
        var consoles = ConsoleFiles(folder: folder)
        if let devices = root.elements(forName: "devices").first {
            try consoles.rewrite(devices)
        }
        let hasAgent = try !root.nodes(forXPath: "devices/channel[@type='unix']/target[@type='virtio' and @name='\(Self.guestAgentChannel)']").isEmpty
        return Result(xml: doc.xmlString(options: [.nodePrettyPrint]), consoleLog: consoles.consoleLog, hasGuestAgent: hasAgent, nvramPath: nvram)
    }

    // MARK: identity

    private func rewriteIdentity(_ root: XMLElement) throws {
        for element in root.elements(forName: "name") + root.elements(forName: "uuid") + root.elements(forName: "title")
            + root.elements(forName: "description") + root.elements(forName: "metadata") {
            element.detach()
        }
        root.insertChild(XMLElement(name: "name", stringValue: name), at: 0)
        root.insertChild(XMLElement(name: "description", stringValue: description), at: 1)
        let metadata = XMLElement(name: "metadata")
        metadata.addChild(try XMLElement(xmlString: marker.element))
        root.insertChild(metadata, at: 2)
        // An empty genid makes libvirt generate a new VM generation id.
        for genid in root.elements(forName: "genid") { genid.stringValue = "" }
        for node in try root.nodes(forXPath: "*[namespace-uri()='\(Self.qemuNamespace)']") { node.detach() }
    }

    /// NVRAM goes into the scratch folder: the point's copy when the runner wrote one there,
    /// else libvirt makes it from the template. Returns its path.
    private func rewriteFirmware(_ root: XMLElement) throws -> String? {
        guard let os = root.elements(forName: "os").first else { return nil }
        let usesPflash = os.elements(forName: "loader").contains { $0.attribute(forName: "type")?.stringValue == "pflash" }
            || os.attribute(forName: "firmware")?.stringValue == "efi"
        var nvram = os.elements(forName: "nvram").first
        if nvram == nil && usesPflash {
            nvram = XMLElement(name: "nvram")
            os.addChild(nvram!)
        }
        guard let nvram else { return nil }
        let path = folder.appendingPathComponent("nvram.fd").path
        let template = nvram.attribute(forName: "template")?.stringValue
        nvram.setChildren(nil)
        for attribute in nvram.attributes ?? [] { nvram.removeAttribute(forName: attribute.name ?? "") }
        if let template { nvram.addAttribute(attribute("template", template)) }
        nvram.stringValue = path
        return path
    }

    // MARK: devices

    private static let removedDevices = ["hostdev", "redirdev", "redirfilter", "filesystem", "smartcard", "shmem", "vsock", "tpm",
                                         "lease"]

    private func rewriteDevices(_ devices: XMLElement) throws {
        for kind in Self.removedDevices {
            for element in devices.elements(forName: kind) { element.detach() }
        }
        // NVDIMM and virtio-pmem are backed by a host file; plain DIMMs and virtio-mem are not.
        for node in try devices.nodes(forXPath: "memory[source/path]") { node.detach() }
        for input in devices.elements(forName: "input") where ["passthrough", "evdev"].contains(input.attribute(forName: "type")?.stringValue) {
            input.detach()
        }
        for rng in devices.elements(forName: "rng") where rng.elements(forName: "backend").contains(where: {
            $0.attribute(forName: "model")?.stringValue != "random" && $0.attribute(forName: "model")?.stringValue != "builtin"
        }) {
            rng.detach()
        }
        for disk in devices.elements(forName: "disk") { rewriteDisk(disk) }
        for interface in devices.elements(forName: "interface") { rewriteInterface(interface) }
        for graphics in devices.elements(forName: "graphics") { rewriteGraphics(graphics) }
        for audio in devices.elements(forName: "audio") {
            let id = audio.attribute(forName: "id")?.stringValue
            let muted = XMLElement(name: "audio")
            if let id { muted.addAttribute(attribute("id", id)) }
            muted.addAttribute(attribute("type", "none"))
            replace(audio, with: muted)
        }
    }

    private func rewriteDisk(_ disk: XMLElement) {
        let device = disk.attribute(forName: "device")?.stringValue ?? "disk"
        guard device == "disk",
              let target = disk.elements(forName: "target").first?.attribute(forName: "dev")?.stringValue,
              let image = disks[target] else {
            disk.detach()
            return
        }
        for attribute in ["type", "snapshot", "rawio", "sgio", "model"] { disk.removeAttribute(forName: attribute) }
        disk.addAttribute(attribute("type", "file"))
        for kind in ["source", "backingStore", "encryption", "auth", "mirror", "reservations"] {
            for element in disk.elements(forName: kind) { element.detach() }
        }
        let source = XMLElement(name: "source")
        source.addAttribute(attribute("file", image.path))
        disk.insertChild(source, at: 0)
        let driver = disk.elements(forName: "driver").first ?? {
            let driver = XMLElement(name: "driver")
            driver.addAttribute(attribute("name", "qemu"))
            disk.insertChild(driver, at: 0)
            return driver
        }()
        driver.addAttribute(attribute("type", image.format))
        // A data-file or metadata cache belongs to the original image.
        for element in driver.elements(forName: "metadata_cache") { element.detach() }
    }

    /// Kept from the original: what the guest sees (model, PCI address, boot order, link, MTU).
    private static let keptInterfaceParts = ["model", "address", "boot", "link", "mtu"]

    private func rewriteInterface(_ interface: XMLElement) {
        guard case .isolated(let network) = network else {
            interface.detach()
            return
        }
        let fresh = XMLElement(name: "interface")
        fresh.addAttribute(attribute("type", "network"))
        let source = XMLElement(name: "source")
        source.addAttribute(attribute("network", network))
        fresh.addChild(source)
        for kind in Self.keptInterfaceParts {
            for element in interface.elements(forName: kind) {
                element.detach()
                fresh.addChild(element)
            }
        }
        replace(interface, with: fresh)
    }

    private func rewriteGraphics(_ graphics: XMLElement) {
        guard let type = graphics.attribute(forName: "type")?.stringValue, type == "vnc" || type == "spice" else {
            graphics.detach()
            return
        }
        for name in ["port", "tlsPort", "websocket", "websocketGenerated", "socket", "listen", "autoport"] {
            graphics.removeAttribute(forName: name)
        }
        for listen in graphics.elements(forName: "listen") { listen.detach() }
        graphics.addAttribute(attribute("autoport", "yes"))
        graphics.addAttribute(attribute("listen", "127.0.0.1"))
        let listen = XMLElement(name: "listen")
        listen.addAttribute(attribute("type", "address"))
        listen.addAttribute(attribute("address", "127.0.0.1"))
        graphics.addChild(listen)
    }

    private func replace(_ old: XMLElement, with new: XMLElement) {
        guard let parent = old.parent as? XMLElement else { return }
        parent.replaceChild(at: old.index, with: new)
    }
}

func attribute(_ name: String, _ value: String) -> XMLNode {
    XMLNode.attribute(withName: name, stringValue: value) as! XMLNode
}
