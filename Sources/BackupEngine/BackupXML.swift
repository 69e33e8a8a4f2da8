/// The libvirt XML documents a pull-mode backup needs. Kept apart so tests can read them.
enum BackupXML {
    /// How one disk takes part in a pull backup.
    struct DiskRequest: Equatable {
        var target: String
        /// The checkpoint to read changes since; nil reads the whole disk.
        var incrementalFrom: String?
        /// Whether the new checkpoint records a bitmap for this disk (qcow2 v3 only).
        var tracksChanges: Bool
        var scratchPath: String
    }

    static func backup(socketPath: String, disks: [DiskRequest]) -> String {
        var xml = "<domainbackup mode='pull'>\n"
        if let first = disks.lazy.compactMap(\.incrementalFrom).first {
            xml += "  <incremental>\(escape(first))</incremental>\n"
        }
        xml += "  <server transport='unix' socket='\(escape(socketPath))'/>\n  <disks>\n"
        for disk in disks {
            let mode = disk.incrementalFrom.map { "backupmode='incremental' incremental='\(escape($0))'" } ?? "backupmode='full'"
            xml += "    <disk name='\(escape(disk.target))' backup='yes' type='file' \(mode)>"
            xml += "<scratch file='\(escape(disk.scratchPath))'/></disk>\n"
        }
        return xml + "  </disks>\n</domainbackup>\n"
    }

    /// A checkpoint over the disks that can carry a bitmap; the rest are named with
    /// `checkpoint='no'` so libvirt does not refuse raw disks.
    static func checkpoint(name: String, disks: [DiskRequest], excluded: [String]) -> String? {
        let tracked = disks.filter(\.tracksChanges)
        guard !tracked.isEmpty else { return nil }
        var xml = "<domaincheckpoint>\n  <name>\(escape(name))</name>\n"
        xml += "  <description>created by vbackup; deleted by vbackup when superseded</description>\n  <disks>\n"
        for disk in tracked { xml += "    <disk name='\(escape(disk.target))' checkpoint='bitmap'/>\n" }
        for target in excluded + disks.filter({ !$0.tracksChanges }).map(\.target) {
            xml += "    <disk name='\(escape(target))' checkpoint='no'/>\n"
        }
        return xml + "  </disks>\n</domaincheckpoint>\n"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "'", with: "&apos;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
