import Foundation
import VBackupModel
import VBackupStore
#if canImport(Glibc)
import Glibc
#endif

/// Which points a drill boots: each selected VM's newest point, or the one `--point` names.
/// VMs are those with points in the store, matched by name or UUID against shell globs.
enum DrillSelection {
    static func points(in store: Store, options: DrillOptions) throws -> [PointManifest] {
        let all = try store.listPoints()
        var newest: [String: PointManifest] = [:]   // per VM UUID
        for point in all where newest[point.vmUUID].map({ $0.createdAt <= point.createdAt }) ?? true {
            newest[point.vmUUID] = point
        }
        let matched = newest.values.filter { point in
            options.vmPatterns.isEmpty || options.vmPatterns.contains { matches($0, point.vmName) || matches($0, point.vmUUID) }
        }.sorted { ($0.vmName, $0.vmUUID) < ($1.vmName, $1.vmUUID) }

        if let id = options.pointID {
            let point: PointManifest
            do {
                point = try store.point(id: id)
            } catch StoreError.pointNotFound {
                throw DrillError.unknownPoint(id)
            }
            guard !options.vmPatterns.isEmpty else { return [point] }
            guard matched.count <= 1 else { throw DrillError.pointNeedsOneVM(matched: matched.map(\.vmName)) }
            guard matched.first?.vmUUID == point.vmUUID else { throw DrillError.pointOfOtherVM(point: id, vm: point.vmName) }
            return [point]
        }
        if all.isEmpty { throw DrillError.emptyStore }
        if matched.isEmpty { throw DrillError.noVMMatches(options.vmPatterns) }
        return matched
    }

    /// Shell glob rules (fnmatch, no flags), as `--vm` documents.
    static func matches(_ pattern: String, _ name: String) -> Bool {
        fnmatch(pattern, name, 0) == 0
    }
}
