import Foundation

/// Follows the sandbox's serial console file as the guest writes it: complete new lines on
/// each `poll`, and the last lines for the report. The file may not exist yet (virtlogd makes it
/// when the domain starts).
final class ConsoleLog {
    static let tailLines = 40

    let path: String
    private var offset: UInt64 = 0
    private var partial = Data()
    private(set) var tail: [String] = []

    init(path: String) { self.path = path }

    /// Lines completed since the last call, in order.
    func poll() -> [String] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd(), !data.isEmpty else { return [] }
        offset += UInt64(data.count)
        partial.append(data)
        var lines: [String] = []
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(Self.clean(partial[partial.startIndex..<newline]))
            partial.removeSubrange(partial.startIndex...newline)
        }
        tail = Array((tail + lines).suffix(Self.tailLines))
        return lines
    }

    /// The tail for the report, with a last unfinished line if there is one.
    var tailForReport: [String] {
        _ = poll()
        let last = partial.isEmpty ? [] : [Self.clean(partial[...])]
        return Array((tail + last).suffix(Self.tailLines))
    }

    /// A console line as text: carriage returns and other control characters dropped (kernels
    /// and firmware write `\r\n` and escape sequences), invalid UTF-8 repaired, at most 500
    /// characters.
    private static func clean(_ bytes: Data.SubSequence) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f || $0 == "\t" }.prefix(500).map(Character.init))
    }
}
