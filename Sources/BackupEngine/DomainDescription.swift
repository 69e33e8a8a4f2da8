import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// What vbackup reads out of a domain's XML: its disks and NVRAM. Pure parsing, no libvirt.
struct DomainDescription {
    struct Disk: Equatable {
        var target: String
        var sourcePath: String
        /// libvirt's driver type (`qcow2`, `raw`).
        var format: String
        /// `file` or `block`.
        var sourceType: String
        /// The device alias in a live XML (`virtio-disk0`) and the bus (`virtio`, `sata`).
        var alias: String?
        var bus: String?
    }

    var name: String
    var uuid: String
    var disks: [Disk]
    var nvramPath: String?

    init(xml: String) throws {
        let doc: XMLDocument
        do {
            doc = try XMLParsing.document(xml)
        } catch {
            throw EngineError.invalidArgument("cannot parse domain XML: \(error)")
        }
        name = try Self.text(doc, "/domain/name") ?? ""
        uuid = try Self.text(doc, "/domain/uuid") ?? ""
        nvramPath = try Self.text(doc, "/domain/os/nvram")
        disks = try doc.nodes(forXPath: "/domain/devices/disk[@device='disk' or not(@device)]").compactMap { node in
            guard let element = node as? XMLElement else { return nil }
            return Self.disk(element)
        }
    }

    private static func disk(_ element: XMLElement) -> Disk? {
        let type = element.attribute(forName: "type")?.stringValue ?? "file"
        guard type == "file" || type == "block" else { return nil }
        let source = element.elements(forName: "source").first
        guard let path = source?.attribute(forName: type == "file" ? "file" : "dev")?.stringValue,
              let target = element.elements(forName: "target").first?.attribute(forName: "dev")?.stringValue
        else { return nil }
        let format = element.elements(forName: "driver").first?.attribute(forName: "type")?.stringValue ?? "raw"
        let alias = element.elements(forName: "alias").first?.attribute(forName: "name")?.stringValue
        let bus = element.elements(forName: "target").first?.attribute(forName: "bus")?.stringValue
        return Disk(target: target, sourcePath: path, format: format, sourceType: type, alias: alias, bus: bus)
    }

    private static func text(_ doc: XMLDocument, _ path: String) throws -> String? {
        let value = try doc.nodes(forXPath: path).first?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines)
        return value?.isEmpty == false ? value : nil
    }
}
