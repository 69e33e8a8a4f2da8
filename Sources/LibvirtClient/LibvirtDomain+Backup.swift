import CLibvirt
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Pull-mode backup jobs and checkpoints. A pull job never ends by itself: whoever begins
/// one must end it with `abortJob()`, which also makes libvirt delete the scratch files.
extension LibvirtDomain {
    /// Starts a backup job (`virDomainBackupBegin`). With `checkpointXML`, libvirt creates the
    /// checkpoint in the same QMP transaction, so no guest write falls between the two.
    public func backupBegin(backupXML: String, checkpointXML: String?) throws {
        try check(virDomainBackupBegin(pointer, backupXML, checkpointXML, 0), "virDomainBackupBegin(\(name)) failed")
    }

    /// The running job's XML, which names each disk's NBD export (`exportname`) and, for
    /// incrementals, its dirty bitmap (`exportbitmap`).
    public func backupXML() throws -> String {
        try takeString(virDomainBackupGetXMLDesc(pointer, 0), "virDomainBackupGetXMLDesc(\(name)) failed")
    }

    public func abortJob() throws { try check(virDomainAbortJob(pointer), "virDomainAbortJob(\(name)) failed") }

    /// Whether any job (backup, migration, …) is running; a leftover one blocks the next backup.
    public func hasActiveJob() throws -> Bool {
        var info = virDomainJobInfo()
        try check(virDomainGetJobInfo(pointer, &info), "virDomainGetJobInfo(\(name)) failed")
        return info.type != Int32(VIR_DOMAIN_JOB_NONE.rawValue)
    }

    /// All checkpoints, parents before children.
    public func checkpoints() throws -> [LibvirtCheckpoint] {
        var list: UnsafeMutablePointer<virDomainCheckpointPtr?>?
        let flags = VIR_DOMAIN_CHECKPOINT_LIST_TOPOLOGICAL.rawValue
        let count = try check(virDomainListAllCheckpoints(pointer, &list, flags), "virDomainListAllCheckpoints(\(name)) failed")
        defer { free(list) }
        var result: [LibvirtCheckpoint] = []
        for i in 0..<Int(count) {
            guard let cp = list?[i] else { continue }
            result.append(LibvirtCheckpoint(taking: cp))
        }
        return result
    }

    /// Throws `noDomainCheckpoint` when there is none of that name.
    public func checkpoint(named checkpointName: String) throws -> LibvirtCheckpoint {
        let cp = try check(virDomainCheckpointLookupByName(pointer, checkpointName, 0),
                           "virDomainCheckpointLookupByName(\(name), \(checkpointName)) failed")
        return LibvirtCheckpoint(taking: cp)
    }
}
