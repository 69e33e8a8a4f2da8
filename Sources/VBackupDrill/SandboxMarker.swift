import BackupEngine
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The `<metadata>` element that marks a domain or network as a drill's sandbox, and says which
/// process made it, so a later drill can remove what a drill that died left behind without ever
/// touching a live drill's sandbox (or anything that is not a sandbox).
///
/// `<vbdrill:sandbox xmlns:vbdrill="https://vbackup.dev/xmlns/drill/1" drill="…" vm="…"
///   point="…" host="…" pid="…" pidStart="…" folder="…" kept="no"/>`
///
/// A sandbox made with `--keep` says `kept="yes"`: it outlives its drill on purpose, and no
/// sweep removes it.
struct SandboxMarker: Equatable, Sendable {
    static let namespaceURI = "https://vbackup.dev/xmlns/drill/1"

    var drillID: String
    var vm: String
    var pointID: String
    var host: String
    var owner: ProcessIdentity
    /// The VM's scratch folder, removed with the sandbox.
    var folder: String
    var kept: Bool

    var element: String {
        let attributes = [("drill", drillID), ("vm", vm), ("point", pointID), ("host", host), ("pid", String(owner.pid)),
                          ("pidStart", String(owner.startTicks)), ("folder", folder), ("kept", kept ? "yes" : "no")]
        return "<vbdrill:sandbox xmlns:vbdrill=\"\(Self.namespaceURI)\""
            + attributes.map { " \($0.0)=\"\(XMLText.escape($0.1))\"" }.joined() + "/>"
    }

    /// The marker in a domain's or network's XML; nil when it has none (not a sandbox).
    static func find(inXML xml: String) -> SandboxMarker? {
        guard xml.contains(namespaceURI), let doc = try? XMLParsing.document(xml) else { return nil }
        let path = "//*[local-name()='sandbox' and namespace-uri()='\(namespaceURI)']"
        guard let element = (try? doc.nodes(forXPath: path))?.first as? XMLElement else { return nil }
        func value(_ name: String) -> String? { element.attribute(forName: name)?.stringValue }
        guard let drill = value("drill"), let pid = value("pid").flatMap(Int32.init),
              let start = value("pidStart").flatMap(UInt64.init), let folder = value("folder") else { return nil }
        return SandboxMarker(drillID: drill, vm: value("vm") ?? "", pointID: value("point") ?? "", host: value("host") ?? "",
                             owner: ProcessIdentity(pid: pid, startTicks: start), folder: folder, kept: value("kept") == "yes")
    }
}

/// A process, told apart from a later one that reuses its pid by its start time (clock ticks
/// after boot, field 22 of `/proc/PID/stat`).
struct ProcessIdentity: Equatable, Sendable {
    var pid: Int32
    var startTicks: UInt64

    static var current: ProcessIdentity {
        let pid = getpid()
        return ProcessIdentity(pid: pid, startTicks: startTicks(of: pid) ?? 0)
    }

    /// Whether this very process still runs.
    var isAlive: Bool {
        guard let ticks = Self.startTicks(of: pid) else { return false }
        return ticks == startTicks
    }

    static func startTicks(of pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // After the command name: state is field 3, so starttime (field 22) is the 20th.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }
}

/// Escaping for XML text and attribute values (both quote kinds).
enum XMLText {
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }
}
