import Foundation

/// The names one drill gives what it makes: its id, each sandbox domain's name, the isolated
/// network's name, the scratch folders. Everything carries the `vbdrill-` prefix and the drill's
/// short id, so no name can be the production VM's or another drill's.
struct DrillIdentity: Sendable {
    static let prefix = "vbdrill-"
    /// libvirt accepts longer names, but QEMU's per-domain paths (monitor socket, channel
    /// folder) and people's terminals are happier with short ones.
    static let maxDomainName = 63

    /// `drill-YYYYMMDD-HHMMSS-xxxx` (UTC), as DrillReport.id documents.
    let id: String
    /// `HHMMSSxxxx`: unique enough per host (time of day plus 16 random bits) and short.
    let shortID: String

    init(startedAt: Date, random: UInt16 = .random(in: .min ... .max)) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: startedAt)
        let date = String(format: "%04d%02d%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0)
        let time = String(format: "%02d%02d%02d", c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
        let suffix = String(format: "%04x", random)
        id = "drill-\(date)-\(time)-\(suffix)"
        shortID = time + suffix
    }

    /// `vbdrill-<short id>-<vm>`, the VM's name reduced to characters safe in a domain name and a
    /// file name, and cut so the whole stays within `maxDomainName`.
    func sandboxName(vm: String) -> String {
        let head = "\(Self.prefix)\(shortID)-"
        let safe = String(vm.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "-" })
        let trimmed = String(safe.drop { $0 == "." }.prefix(Self.maxDomainName - head.count))
        return head + (trimmed.isEmpty ? "vm" : trimmed)
    }

    /// The isolated network of one sandbox (one per VM, so each is removed with its VM).
    func networkName(vmIndex: Int) -> String { "\(Self.prefix)\(shortID)-net\(vmIndex)" }

    /// `<scratch parent>/<drill id>/`: everything this drill writes, and nothing else.
    func scratchFolder(parent: URL) -> URL { parent.appendingPathComponent(id, isDirectory: true) }
}
