import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Turns a saved domain XML into one that can be defined next to the original without a clash:
/// new name, no UUID (libvirt makes one), disks pointing at the restored images, no MAC
/// addresses (libvirt makes new ones), and console/serial log files and NVRAM moved next to
/// the restored disks.
struct DomainXMLRewriter {
    var newName: String
    /// Restored image per disk target, and its format.
    var disks: [String: (path: String, format: String)]
    var directory: URL
    var nvramPath: String?

    func rewrite(_ xml: String) throws -> String {
        let doc = try XMLParsing.document(xml)
        guard let root = doc.rootElement() else { throw EngineError.invalidArgument("saved domain XML has no root element") }
        try set(root, "name", newName)
        for node in try root.nodes(forXPath: "uuid | devices/interface/mac | devices/disk/backingStore") { node.detach() }
        for node in try root.nodes(forXPath: "devices/disk[@device='disk' or not(@device)]") {
            guard let disk = node as? XMLElement else { continue }
            rewriteDisk(disk)
        }
        // A channel's socket path (the guest agent's) is per domain: libvirt picks a new one.
        for node in try root.nodes(forXPath: "devices/channel/source") { node.detach() }
        for node in try root.nodes(forXPath: "devices/serial | devices/console") {
            guard let device = node as? XMLElement else { continue }
            rewriteLogs(device)
        }
        if let nvram = try root.nodes(forXPath: "os/nvram").first as? XMLElement {
            if let nvramPath { nvram.stringValue = nvramPath } else { nvram.detach() }
        }
        return doc.xmlString(options: [.nodePrettyPrint])
    }

    private func rewriteDisk(_ disk: XMLElement) {
        guard let target = disk.elements(forName: "target").first?.attribute(forName: "dev")?.stringValue,
              let restored = disks[target] else {
            disk.detach()   // a disk not in the point (cdrom media, unsupported type) is left out
            return
        }
        disk.setAttributesWith(["type": "file", "device": disk.attribute(forName: "device")?.stringValue ?? "disk"])
        for source in disk.elements(forName: "source") { source.detach() }
        let source = XMLElement(name: "source")
        source.setAttributesWith(["file": restored.path])
        disk.insertChild(source, at: 0)
        if let driver = disk.elements(forName: "driver").first {
            driver.addAttribute(XMLNode.attribute(withName: "type", stringValue: restored.format) as! XMLNode)
        } else {
            // Without a driver type libvirt opens the image as raw: a qcow2 would show the guest its metadata.
            let driver = XMLElement(name: "driver")
            driver.setAttributesWith(["name": "qemu", "type": restored.format])
            disk.insertChild(driver, at: 0)
        }
    }

    /// File-backed consoles and their logs would write into the original VM's files.
    private func rewriteLogs(_ device: XMLElement) {
        for element in device.elements(forName: "log") + device.elements(forName: "source") {
            for attribute in ["file", "path"] {
                guard let old = element.attribute(forName: attribute)?.stringValue, old.hasPrefix("/") else { continue }
                let fresh = directory.appendingPathComponent("\(newName)-\(URL(fileURLWithPath: old).lastPathComponent)").path
                element.addAttribute(XMLNode.attribute(withName: attribute, stringValue: fresh) as! XMLNode)
            }
        }
    }

    private func set(_ root: XMLElement, _ name: String, _ value: String) throws {
        if let element = root.elements(forName: name).first {
            element.stringValue = value
        } else {
            root.insertChild(XMLElement(name: name, stringValue: value), at: 0)
        }
    }
}
