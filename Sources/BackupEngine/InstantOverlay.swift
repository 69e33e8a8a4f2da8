import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The qcow2 overlays an instantly restored VM runs on: each starts empty over its disk's NBD
/// export and, once the pull has copied everything in, is a plain local image.
enum InstantOverlay {
    /// Creates `path`, a qcow2 of `size` bytes backed by `uri` in the header as an
    /// `nbd+unix://` backing of format raw (NBD serves bytes). libvirt 9.0 reads that URI into
    /// a network `<backingStore>` and hands QEMU an `nbd` blockdev for it. `qemu-img` opens the
    /// backing once here, so an export QEMU could not read fails now, before anything is defined.
    static func create(at path: String, backing uri: String, size: UInt64) throws {
        try Subprocess.run("qemu-img", ["create", "-q", "-f", "qcow2", "-o", "compat=1.1,cluster_size=65536",
                                        "-F", "raw", "-b", uri, path, String(size)])
    }

    /// What `qemu-img info` says of an image's header: its backing file (nil when it has none)
    /// and the bytes it occupies on the host. Read with `-U`: the running VM holds the lock.
    static func info(of path: String) throws -> (backing: String?, allocated: UInt64) {
        let json = try Subprocess.run("qemu-img", ["info", "-U", "--output=json", path])
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw EngineError.unreadableImage(path: path, reason: "qemu-img info gave no JSON object")
        }
        return (object["backing-filename"] as? String, (object["actual-size"] as? NSNumber)?.uint64Value ?? 0)
    }

    /// Copies what the backing still provides into the image and drops the backing, offline
    /// (`qemu-img rebase -b ''`, the safe mode that compares and copies): the pull's fallback
    /// when the VM stopped before its block jobs ended.
    static func makeLocalOffline(_ path: String) throws {
        try Subprocess.run("qemu-img", ["rebase", "-q", "-f", "qcow2", "-b", "", path])
    }

    /// The disk targets of a live domain XML that still read through a backing image (a
    /// `<backingStore>` with a source; libvirt leaves an empty one once a pull has finished).
    static func backedTargets(liveXML: String) throws -> Set<String> {
        let doc = try XMLParsing.document(liveXML)
        let nodes = try doc.nodes(forXPath: "/domain/devices/disk[backingStore/source]/target/@dev")
        return Set(nodes.compactMap(\.stringValue))
    }
}
