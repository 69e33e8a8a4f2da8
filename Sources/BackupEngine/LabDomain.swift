import Foundation
import LibvirtClient

/// Small TCG domains with blank disks, and ways to change and capture their disks from the
/// host: what `vbackup demo` runs on, and what the integration tests drive. A domain needs no
/// OS to be backed up: it sits in firmware while its disks are real, writable, checkpointable
/// block devices.
public struct LabDomain {
    public struct DiskSpec: Sendable {
        public var target: String
        public var sizeMiB: Int
        public var format: String
        public init(target: String, sizeMiB: Int, format: String = "qcow2") {
            self.target = target
            self.sizeMiB = sizeMiB
            self.format = format
        }
    }

    public let domain: LibvirtDomain
    public let directory: URL

    /// Creates the disk images in `directory` and defines (not starts) a persistent domain.
    public static func define(connection: LibvirtConnection, name: String, disks: [DiskSpec], directory: URL) throws -> LabDomain {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var devices = ""
        for disk in disks {
            let path = directory.appendingPathComponent("\(name)-\(disk.target).\(disk.format)").path
            var args = ["create", "-q", "-f", disk.format]
            if disk.format == "qcow2" { args += ["-o", "compat=1.1"] }
            try Subprocess.run("qemu-img", args + [path, "\(disk.sizeMiB)M"])
            devices += """
                <disk type='file' device='disk'><driver name='qemu' type='\(disk.format)'/>
                  <source file='\(BackupXML.escape(path))'/><target dev='\(disk.target)' bus='virtio'/></disk>
                """
        }
        let xml = """
            <domain type='qemu'><name>\(BackupXML.escape(name))</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
              <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os><features><acpi/></features>
              <devices>\(devices)<video><model type='none'/></video><memballoon model='none'/></devices></domain>
            """
        return LabDomain(domain: try connection.defineDomain(xml: xml), directory: directory)
    }

    public init(domain: LibvirtDomain, directory: URL) {
        self.domain = domain
        self.directory = directory
    }

    /// Source image path per disk target.
    public func diskPaths() throws -> [String: String] {
        let description = try DomainDescription(xml: domain.xml(inactive: false))
        return Dictionary(uniqueKeysWithValues: description.disks.map { ($0.target, $0.sourcePath) })
    }

    /// Writes `length` bytes of `pattern` at `offset` into a running domain's disk, through the
    /// guest's own block device (QEMU's qemu-io on the device's backend), as a guest write would.
    public func write(_ target: String, offset: UInt64, length: UInt64, pattern: UInt8) throws {
        try qemuIO(target, "write -P \(pattern) \(offset) \(length)")
    }

    /// Writes the first `length` bytes of `file` at `offset` (`write -s`): data that neither
    /// compresses nor deduplicates, when the file is random. QEMU itself reads the file.
    public func write(_ target: String, offset: UInt64, length: UInt64, from file: String) throws {
        try qemuIO(target, "write -s \(file) \(offset) \(length)")
    }

    /// Zeroes a range as a guest's TRIM or zero-write would (`write -z`).
    public func zero(_ target: String, offset: UInt64, length: UInt64) throws {
        try qemuIO(target, "write -z \(offset) \(length)")
    }

    private func qemuIO(_ target: String, _ command: String) throws {
        let description = try DomainDescription(xml: domain.xml(inactive: false))
        guard let disk = description.disks.first(where: { $0.target == target }), let alias = disk.alias else {
            throw EngineError.invalidArgument("domain \(domain.name) has no running disk \(target)")
        }
        let device = disk.bus == "virtio" ? "\(alias)/virtio-backend" : alias
        let reply = try domain.qemuMonitorCommand(hmp: "qemu-io -d \(device) \"\(command)\"")
        // The monitor answers errors as text with success status: an empty reply is success.
        guard reply.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw EngineError.invalidArgument("qemu-io on \(device) failed: \(reply.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    /// Copies a disk as it is right now (pause the domain first for a stable copy).
    public static func copyImage(_ path: String, to copy: String) throws {
        try Subprocess.run("qemu-img", ["convert", "-U", "-O", "qcow2", path, copy])
    }

    /// Whether two images have the same content (`qemu-img compare`, not strict: allocation may differ).
    public static func sameContent(_ a: String, _ b: String) throws -> Bool {
        do {
            try Subprocess.run("qemu-img", ["compare", "-U", "-q", a, b])
            return true
        } catch let failure as Subprocess.Failure where failure.status == 1 {
            return false
        }
    }

    /// Destroys, undefines (with checkpoint metadata) and deletes the files.
    public func remove() {
        try? domain.destroy()
        try? domain.undefine(checkpointsMetadata: true, nvram: true)
        try? FileManager.default.removeItem(at: directory)
    }
}
