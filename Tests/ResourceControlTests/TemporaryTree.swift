import Foundation

/// A folder tree in /tmp standing in for /sys/fs/cgroup or /proc; removed when dropped.
final class TemporaryTree {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "rc-tree-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Writes `content` to `relative`, creating folders on the way (the kernel's files, faked).
    func file(_ relative: String, _ content: String = "") throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try content.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// A v2 group's control files, as the kernel would create them on mkdir.
    func v2Group(_ relative: String) throws {
        for name in ["cgroup.procs", "cgroup.subtree_control", "cpu.max", "cpu.weight"] {
            try file(relative + "/" + name)
        }
    }

    func read(_ relative: String) -> String? {
        try? String(contentsOfFile: root + "/" + relative, encoding: .utf8)
    }

    func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: root + "/" + relative)
    }

    /// Empties a fake group so rmdir can succeed (cgroupfs lets rmdir pass its control files).
    func clearFiles(in relative: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: root + "/" + relative) {
            try FileManager.default.removeItem(atPath: root + "/" + relative + "/" + name)
        }
    }
}
