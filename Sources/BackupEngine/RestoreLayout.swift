import Foundation
import VBackupModel
import VBackupStore

/// Where each restored file goes: `<dir>/<name>-<target>.<format>`, written first as
/// `<dir>/.<file>.partial`.
struct RestoreLayout {
    var point: PointManifest
    var name: String
    var directory: URL
    var format: RestoreOptions.Format?

    func format(for disk: PointDisk) -> String {
        format?.rawValue ?? (disk.format == "qcow2" ? "qcow2" : "raw")
    }

    func path(for disk: PointDisk) -> String {
        directory.appendingPathComponent("\(name)-\(disk.target).\(format(for: disk))").path
    }

    var nvramPath: String? {
        point.nvramKey == nil ? nil : directory.appendingPathComponent("\(name)_VARS.fd").path
    }

    var allPaths: [String] { point.disks.map(path(for:)) + [nvramPath].compactMap { $0 } }

    func temporary(_ path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial").path
    }

    func final(_ temporary: String) -> String {
        let url = URL(fileURLWithPath: temporary)
        var name = url.lastPathComponent
        name.removeFirst()
        return url.deletingLastPathComponent().appendingPathComponent(String(name.dropLast(".partial".count))).path
    }
}

/// Picks the point a restore means: an explicit id, the newest at or before a time, or the newest.
struct PointSelector {
    var store: Store

    func select(vm: String, id: String?, at: Date?) throws -> PointManifest {
        if let id {
            let point = try store.point(id: id)
            guard point.vmName == vm || point.vmUUID == vm else {
                throw EngineError.invalidArgument("point \(id) belongs to VM '\(point.vmName)', not '\(vm)'")
            }
            return point
        }
        let points = try store.listPoints(vm: vm)
        let candidates = at.map { limit in points.filter { $0.createdAt <= limit } } ?? points
        guard let point = candidates.max(by: { $0.createdAt < $1.createdAt }) else { throw EngineError.noPoint(vm: vm) }
        return point
    }
}
