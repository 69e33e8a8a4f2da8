import Foundation
import StorageAdapter
import VBackupModel

/// Drill verdicts kept beside the point they tested, at `points/<vm>/<point>/drills/<drill>.json`
/// (sealed like every other object in an encrypted store). They live under the point's prefix,
/// so deleting the point deletes them and GC never takes them for orphans; any host sharing the
/// store sees when each VM last passed a drill.
extension Store {
    /// Keeps `record` with its point. Writing the same drill id again replaces the record.
    public func recordDrill(_ record: DrillRecord) throws {
        let manifest = try point(id: record.result.pointID)
        let key = try StoreFormat.drillRecordKey(vmUUID: manifest.vmUUID, pointID: manifest.id, drillID: record.drillID)
        try putSealed(key, try StoreJSON.encode(record), kind: .drillRecord)
    }

    /// The drills recorded for one point, oldest first.
    public func drillRecords(pointID: String) throws -> [DrillRecord] {
        let manifest = try point(id: pointID)
        let prefix = StoreFormat.pointPrefix(vmUUID: manifest.vmUUID, pointID: manifest.id) + StoreFormat.drillsFolder
        return try readDrillRecords(under: prefix)
    }

    /// Every drill recorded in the store, oldest first (one LIST of `points/`).
    public func allDrillRecords() throws -> [DrillRecord] {
        try readDrillRecords(under: StoreFormat.pointsPrefix)
    }

    private func readDrillRecords(under prefix: String) throws -> [DrillRecord] {
        let listed = try io(prefix) { try adapter.list(prefix: prefix) }
        var records: [DrillRecord] = []
        for object in listed where StoreFormat.isDrillRecordKey(object.key) {
            let data: Data
            do {
                data = try getOpened(object.key, kind: .drillRecord)
            } catch StorageError.notFound {
                continue   // its point was deleted while we listed
            }
            do {
                records.append(try StoreJSON.decode(DrillRecord.self, from: data))
            } catch {
                throw StoreError.corrupt(key: object.key, reason: "not a valid drill record (\(StoreJSON.describe(error)))")
            }
        }
        return records.sorted { ($0.recordedAt, $0.drillID) < ($1.recordedAt, $1.drillID) }
    }
}

extension StoreFormat {
    static let drillsFolder = "drills/"

    static func drillRecordKey(vmUUID: String, pointID: String, drillID: String) throws -> String {
        try validateName(drillID)
        return pointPrefix(vmUUID: vmUUID, pointID: pointID) + drillsFolder + drillID + ".json"
    }

    /// Whether `key` is `points/<vm>/<point>/drills/<drill>.json`.
    static func isDrillRecordKey(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 5 && parts[0] == "points" && parts[3] == "drills" && parts[4].hasSuffix(".json")
    }
}
