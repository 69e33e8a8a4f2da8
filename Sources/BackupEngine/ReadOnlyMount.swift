import Foundation

/// A disk served over NBD, mounted read-only on this host for single-file restore: nbdfuse
/// shows the export as a file, `losetup -r -P` attaches it, and the chosen partition (or the
/// whole disk when it has no partition table) is mounted read-only. A journal is not replayed
/// (`noload` for ext3/4, `norecovery` for XFS): a crash-consistent point has a dirty one, and
/// the device is read-only.
///
/// Where the kernel does not scan partitions of loop devices (no `/dev/loopNpM` appears), the
/// partition is attached as its own loop device at its offset, from the table `partx` reads.
/// Whatever the setup made is undone, newest first, when it fails halfway and by `unmount()`.
public final class ReadOnlyMount {
    public struct Details: Codable, Sendable {
        public var mountpoint: String
        /// The block device mounted: the loop device, or its partition.
        public var device: String
        public var partition: Int?
        public var filesystem: String?
    }

    public let details: Details
    private let teardown: Teardown

    /// Mounts `uri` read-only at `mountpoint` (an existing directory), using `workDirectory`
    /// (which must exist) for the FUSE file. Throws after undoing everything on any failure.
    public init(uri: String, workDirectory: String, mountpoint: String, partition: Int?) throws {
        let teardown = Teardown()
        do {
            let fuse = try FuseFile(uri: uri, folder: workDirectory + "/fuse", logFile: workDirectory + "/nbdfuse.log")
            teardown.add("stop nbdfuse") { fuse.stop() }
            let disk = try Self.attach(["-r", "-P", "-f", "--show", fuse.path], teardown: teardown)
            let (device, number) = try Self.device(for: partition, disk: disk, file: fuse.path, teardown: teardown)
            let filesystem = Self.filesystem(of: device)
            var options = ["ro"]
            if let filesystem, ["ext3", "ext4"].contains(filesystem) { options.append("noload") }
            if filesystem == "xfs" { options.append("norecovery") }
            try Subprocess.run("mount", ["-o", options.joined(separator: ","), device, mountpoint])
            teardown.add("unmount \(mountpoint)") { try Self.unmount(mountpoint) }
            details = Details(mountpoint: mountpoint, device: device, partition: number, filesystem: filesystem)
        } catch {
            teardown.run()
            throw error
        }
        self.teardown = teardown
    }

    /// Unmounts, detaches the loop devices, stops nbdfuse. Idempotent; throws (after trying
    /// every step) when something could not be undone.
    public func unmount() throws {
        let failures = teardown.run()
        guard failures.isEmpty else { throw EngineError.invalidArgument(failures.joined(separator: "; ")) }
    }

    /// `losetup ARGS`, returning the device, detached again by the teardown.
    private static func attach(_ arguments: [String], teardown: Teardown) throws -> String {
        let device = try Subprocess.run("losetup", arguments).trimmingCharacters(in: .whitespacesAndNewlines)
        teardown.add("detach \(device)") { try Subprocess.run("losetup", ["-d", device]) }
        return device
    }

    /// The device to mount: the whole disk without a partition table, else the asked-for
    /// partition (or the only one), with the partition's number.
    private static func device(for asked: Int?, disk: String, file: String, teardown: Teardown) throws -> (String, Int?) {
        let table = PartitionTable.read(file)
        let number: Int
        if let asked {
            guard table.contains(where: { $0.number == asked }) else {
                let have = table.isEmpty ? "no partition table" : "partitions " + table.map { "\($0.number)" }.joined(separator: ", ")
                throw EngineError.invalidArgument("the disk has no partition \(asked) (it has \(have))")
            }
            number = asked
        } else if table.isEmpty {
            return (disk, nil)
        } else if table.count == 1 {
            number = table[0].number
        } else {
            throw EngineError.invalidArgument("the disk has partitions \(table.map { "\($0.number)" }.joined(separator: ", ")): "
                + "choose one with --partition N")
        }
        let kernelDevice = "\(disk)p\(number)"
        if FileManager.default.fileExists(atPath: kernelDevice) { return (kernelDevice, number) }
        let entry = table.first { $0.number == number }!
        let arguments = ["-r", "-f", "--show", "-o", "\(entry.offset)", "--sizelimit", "\(entry.length)", file]
        return (try attach(arguments, teardown: teardown), number)
    }

    private static func filesystem(of device: String) -> String? {
        let type = (try? Subprocess.run("blkid", ["-o", "value", "-s", "TYPE", device]))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return type?.isEmpty == false ? type : nil
    }

    /// `umount`, retried briefly while the mount is busy (a shell that just left it).
    private static func unmount(_ mountpoint: String) throws {
        var lastError: Error?
        for _ in 0..<10 {
            guard FuseFile.isMountPoint(mountpoint) else { return }
            do {
                try Subprocess.run("umount", [mountpoint])
                return
            } catch {
                lastError = error
                usleep(200_000)
            }
        }
        if let lastError { throw lastError }
    }
}

/// A disk's partitions as `partx` reads them from the image itself (no kernel support needed).
enum PartitionTable {
    struct Entry {
        var number: Int
        var offset: UInt64
        var length: UInt64
    }

    /// Empty when the disk has no partition table.
    static func read(_ file: String) -> [Entry] {
        guard let listing = try? Subprocess.run("partx", ["-g", "-b", "-o", "NR,START,SECTORS", file]) else { return [] }
        return listing.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").compactMap { UInt64($0) }
            guard fields.count == 3 else { return nil }
            return Entry(number: Int(fields[0]), offset: fields[1] * 512, length: fields[2] * 512)
        }
    }
}
