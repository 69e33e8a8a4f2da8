import Foundation
import LibvirtClient

/// Removes a sandbox: the domain (stopped, then undefined with its NVRAM and any checkpoint or
/// snapshot metadata), its isolated network, whatever served its disks, and its scratch folder.
/// Each step is tried even when an earlier one failed; what failed is returned, one line each.
struct SandboxTeardown {
    let connection: LibvirtConnection

    func remove(domain: LibvirtDomain?, network: LibvirtNetwork?, disks: SandboxDisks?, folder: URL?) -> [String] {
        var problems: [String] = []
        if let domain {
            do {
                if try domain.isActive { try domain.destroy() }
            } catch {
                problems.append("domain \(domain.name) still runs: \(Self.describe(error))")
            }
            do {
                try domain.undefine(checkpointsMetadata: true, nvram: true, snapshotsMetadata: true)
            } catch let error as LibvirtError where error.code == LibvirtError.noDomain {
                // already gone
            } catch {
                problems.append("domain \(domain.name) is still defined: \(Self.describe(error))")
            }
        }
        if let network {
            do {
                try SandboxNetwork.remove(network)
            } catch let error as LibvirtError where error.code == LibvirtError.noNetwork {
                // already gone
            } catch {
                problems.append("network \(network.name): \(Self.describe(error))")
            }
        }
        disks?.stop()
        if let folder, FileManager.default.fileExists(atPath: folder.path) {
            do {
                try FileManager.default.removeItem(at: folder)
            } catch {
                problems.append("folder \(folder.path): \(error.localizedDescription)")
            }
        }
        return problems
    }

    private static func describe(_ error: Error) -> String { (error as? LibvirtError)?.message ?? "\(error)" }
}
