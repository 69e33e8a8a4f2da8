import LibvirtClient

/// vbackup's checkpoints, and only vbackup's: every checkpoint it creates carries `prefix`, and
/// it never deletes a checkpoint without it (another tool's chain is not ours to break).
enum CheckpointJanitor {
    static let prefix = "vbackup-"

    static func name(forPoint pointID: String) -> String { prefix + pointID }

    /// Deletes vbackup checkpoints other than `keep`. A checkpoint whose bitmap is broken or gone
    /// (QEMU was killed, the disk was replaced) cannot be deleted normally: its metadata is
    /// dropped instead. Returns what could not be removed, for the record.
    @discardableResult
    static func removeSuperseded(on domain: LibvirtDomain, keep: String?) -> [String] {
        guard let checkpoints = try? domain.checkpoints() else { return [] }
        var failures: [String] = []
        for checkpoint in checkpoints where checkpoint.name.hasPrefix(prefix) && checkpoint.name != keep {
            do {
                try checkpoint.delete(metadataOnly: false)
            } catch {
                do {
                    try checkpoint.delete(metadataOnly: true)
                } catch {
                    failures.append("\(checkpoint.name): \(error)")
                }
            }
        }
        return failures
    }

    /// Deletes one checkpoint this run created and cannot use (its point was not committed).
    static func remove(_ name: String, on domain: LibvirtDomain) {
        guard let checkpoint = try? domain.checkpoint(named: name) else { return }
        do { try checkpoint.delete(metadataOnly: false) } catch { try? checkpoint.delete(metadataOnly: true) }
    }
}
