import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The sandbox's character devices: serial, console and parallel ports write into files in the
/// scratch folder (or stay pty/null, which stay on the host); the first serial port's output is
/// also the console log the drill tails. Channels stay only when they cannot reach beyond the
/// host: the guest agent's (on a socket libvirt picks, never the original's path) and spice's.
struct ConsoleFiles {
    let folder: URL
    /// The first serial port's output file.
    private(set) var consoleLog: String?
    /// Each original file path and the scratch file it became, so a console that mirrors a
    /// serial port keeps writing to the same file as the port.
    private var renamed: [String: String] = [:]

    init(folder: URL) { self.folder = folder }

    /// Types that stay on the host: a pseudo-terminal, nothing, spice's own channels.
    private static let localTypes: Set<String> = ["pty", "null", "spicevmc", "qemu-vdagent"]

    mutating func rewrite(_ devices: XMLElement) throws {
        for (index, serial) in devices.elements(forName: "serial").enumerated() {
            rewritePort(serial, kind: "serial\(index)")
            if index == 0 { consoleLog = outputFile(of: serial) }
        }
        for (index, parallel) in devices.elements(forName: "parallel").enumerated() { rewritePort(parallel, kind: "parallel\(index)") }
        let serials = devices.elements(forName: "serial")
        for (index, console) in devices.elements(forName: "console").enumerated() {
            let targetType = console.elements(forName: "target").first?.attribute(forName: "type")?.stringValue
            if (targetType == nil || targetType == "serial"), let first = serials.first {
                mirror(console, of: first)   // libvirt's console on serial 0 is that port itself
            } else {
                rewritePort(console, kind: "console\(index)")
            }
        }
        for channel in devices.elements(forName: "channel") { rewriteChannel(channel) }
        if consoleLog == nil, let first = serials.first {
            // A pty or null serial port: its output is logged to a file for the console check.
            let log = XMLElement(name: "log")
            log.addAttribute(attribute("file", folder.appendingPathComponent("console.log").path))
            log.addAttribute(attribute("append", "off"))
            first.addChild(log)
            consoleLog = folder.appendingPathComponent("console.log").path
        }
    }

    /// A port that is not local becomes a file; a file moves into the scratch folder; a log
    /// file too.
    private mutating func rewritePort(_ port: XMLElement, kind: String) {
        let type = port.attribute(forName: "type")?.stringValue ?? "pty"
        if type == "file" {
            for source in port.elements(forName: "source") {
                let old = source.attribute(forName: "path")?.stringValue ?? kind
                source.addAttribute(attribute("path", scratchFile(for: old, kind: kind)))
            }
        } else if !Self.localTypes.contains(type) {
            for kind in ["source", "protocol", "reconnect"] {
                for element in port.elements(forName: kind) { element.detach() }
            }
            port.addAttribute(attribute("type", "file"))
            let source = XMLElement(name: "source")
            source.addAttribute(attribute("path", scratchFile(for: "\(kind)-was-\(type)", kind: kind)))
            port.insertChild(source, at: 0)
        }
        for log in port.elements(forName: "log") {
            let old = log.attribute(forName: "file")?.stringValue ?? "\(kind)-log"
            log.addAttribute(attribute("file", scratchFile(for: old, kind: "\(kind)-log")))
        }
    }

    /// Makes `console` the same device as `serial` (type, source and log), as libvirt treats it.
    private func mirror(_ console: XMLElement, of serial: XMLElement) {
        console.addAttribute(attribute("type", serial.attribute(forName: "type")?.stringValue ?? "pty"))
        for kind in ["source", "protocol", "log", "reconnect"] {
            for element in console.elements(forName: kind) { element.detach() }
        }
        let copies = (serial.elements(forName: "source") + serial.elements(forName: "log")).map { $0.copy() as! XMLElement }
        for (offset, copy) in copies.enumerated() { console.insertChild(copy, at: offset) }
    }

    private func rewriteChannel(_ channel: XMLElement) {
        let type = channel.attribute(forName: "type")?.stringValue ?? ""
        let target = channel.elements(forName: "target").first
        let isVirtioUnix = type == "unix" && target?.attribute(forName: "type")?.stringValue == "virtio"
            && target?.attribute(forName: "name") != nil
        if isVirtioUnix {
            // libvirt makes a socket of its own for a virtio channel without a path.
            for source in channel.elements(forName: "source") { source.detach() }
        } else if !Self.localTypes.contains(type) || target?.attribute(forName: "type")?.stringValue == "guestfwd" {
            channel.detach()
        }
    }

    private func outputFile(of port: XMLElement) -> String? {
        guard port.attribute(forName: "type")?.stringValue == "file" else { return nil }
        return port.elements(forName: "source").first?.attribute(forName: "path")?.stringValue
    }

    /// `<folder>/<kind>-<original file name>`; the same original path always gets the same file.
    private mutating func scratchFile(for original: String, kind: String) -> String {
        if let known = renamed[original] { return known }
        let base = URL(fileURLWithPath: original).lastPathComponent
        let file = folder.appendingPathComponent("\(kind)-\(base.isEmpty ? "out" : base)").path
        renamed[original] = file
        return file
    }
}
