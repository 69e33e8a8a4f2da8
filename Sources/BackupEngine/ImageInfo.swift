import Foundation

/// What `qemu-img info` says about a disk image: its size, format and persistent bitmaps.
struct ImageInfo {
    struct Bitmap: Equatable {
        var name: String
        var flags: [String]
        /// A bitmap flagged `in-use` in a closed image was not flushed (QEMU died): it cannot be trusted.
        var isConsistent: Bool { !flags.contains("in-use") }
        /// Only an enabled (`auto`) bitmap records writes; libvirt disables a checkpoint's
        /// bitmap once a newer checkpoint takes over.
        var isRecording: Bool { flags.contains("auto") }
    }

    var virtualSize: UInt64
    var format: String
    /// qcow2 compat level ("0.10" or "1.1"): only 1.1 stores bitmaps.
    var compat: String?
    var bitmaps: [Bitmap]

    var supportsBitmaps: Bool { format == "qcow2" && compat == "1.1" }

    /// Reads the image's metadata. `-U` because a running VM holds the image's write lock.
    static func read(path: String, format: String? = nil) throws -> ImageInfo {
        var args = ["info", "-U", "--output=json"]
        if let format { args += ["-f", format] }
        args.append(path)
        let json: String
        do {
            json = try Subprocess.run("qemu-img", args)
        } catch let failure as Subprocess.Failure {
            throw EngineError.unreadableImage(path: path, reason: failure.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return try parse(json: Data(json.utf8), path: path)
    }

    static func parse(json: Data, path: String) throws -> ImageInfo {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
              let size = (object["virtual-size"] as? NSNumber)?.uint64Value,
              let format = object["format"] as? String
        else { throw EngineError.unreadableImage(path: path, reason: "unexpected qemu-img output") }
        let specific = (object["format-specific"] as? [String: Any])?["data"] as? [String: Any]
        let bitmaps = (specific?["bitmaps"] as? [[String: Any]] ?? []).compactMap { entry -> Bitmap? in
            guard let name = entry["name"] as? String else { return nil }
            return Bitmap(name: name, flags: entry["flags"] as? [String] ?? [])
        }
        return ImageInfo(virtualSize: size, format: format, compat: specific?["compat"] as? String, bitmaps: bitmaps)
    }
}
