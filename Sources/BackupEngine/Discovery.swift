import Foundation
import LibvirtClient
import VBackupModel

/// Lists the host's VMs and what each disk allows (`vbackup vms`).
public struct Discovery {
    let connection: LibvirtConnection

    public init(connection: LibvirtConnection) {
        self.connection = connection
    }

    /// Looks a VM up by name or UUID; an unknown one is a clear `unknownVM`.
    func domain(_ nameOrUUID: String) throws -> LibvirtDomain {
        do {
            return try connection.lookupDomain(nameOrUUID)
        } catch let error as LibvirtError where error.code == LibvirtError.noDomain {
            throw EngineError.unknownVM(nameOrUUID)
        }
    }

    public func domainNames() throws -> [String] {
        try connection.listAllDomains().map(\.name).sorted()
    }

    public func describe(_ nameOrUUID: String) throws -> DomainInfo {
        try info(for: domain(nameOrUUID))
    }

    /// Every domain of the host. One that vanishes between the listing and its description
    /// (a transient domain stopping, another tool undefining one) is left out, not an error.
    public func all() throws -> [DomainInfo] {
        try connection.listAllDomains().compactMap { domain in
            do {
                return try info(for: domain)
            } catch let error as LibvirtError where error.code == LibvirtError.noDomain {
                return nil
            }
        }.sorted { $0.name < $1.name }
    }

    func info(for domain: LibvirtDomain) throws -> DomainInfo {
        let description = try DomainDescription(xml: domain.xml(inactive: false))
        let disks = description.disks.map { disk -> DiskInfo in
            let image = try? ImageInfo.read(path: disk.sourcePath, format: disk.format)
            return DiskInfo(target: disk.target, sourcePath: disk.sourcePath, format: image?.format ?? disk.format,
                            virtualSize: image?.virtualSize ?? 0,
                            capability: image?.supportsBitmaps == true ? .incremental : .fullOnly)
        }
        let state: DomainInfo.State
        switch try domain.runState() {
        case .running: state = .running
        case .paused: state = .paused
        case .shutoff: state = .shutoff
        case .other: state = .other
        }
        return DomainInfo(name: domain.name, uuid: domain.uuid, state: state,
                          persistent: (try? domain.isPersistent) ?? false, disks: disks,
                          tags: (try? domain.vbackupTags()) ?? [])
    }
}
