import Foundation
import VBackupModel

/// A point as `points --json` and `backup --json` show it: everything but the saved domain XML.
/// Field names are part of the CLI's stable JSON contract.
struct PointSummary: Encodable {
    struct Disk: Encodable {
        var target: String
        var mode: String
        var fullReason: String?
        var checkpoint: String?
        var basePoint: String?
        var virtualSize: UInt64
        var bytesRead: UInt64
        var bytesStored: UInt64
        var chunksNew: Int
        var chunksReused: Int
        var stageSeconds: StageSeconds?
    }

    var id: String
    var vm: String
    var vmUUID: String
    var createdAt: Date
    var finishedAt: Date
    var kind: String
    var consistency: String
    var consistencyNote: String?
    var logicalSize: UInt64
    var bytesRead: UInt64
    var bytesStored: UInt64
    /// Immutable points: until when the storage's object lock retains the point.
    var immutableUntil: Date?
    var disks: [Disk]

    init(_ point: PointManifest) {
        id = point.id
        vm = point.vmName
        vmUUID = point.vmUUID
        createdAt = point.createdAt
        finishedAt = point.finishedAt
        kind = point.disks.allSatisfy { $0.mode == .full } ? "full" : "incremental"
        consistency = point.consistency.rawValue
        consistencyNote = point.consistencyNote
        logicalSize = point.logicalSize
        bytesRead = point.bytesRead
        bytesStored = point.bytesStored
        immutableUntil = point.immutableUntil
        disks = point.disks.map {
            Disk(target: $0.target, mode: $0.mode.rawValue, fullReason: $0.fullReason, checkpoint: $0.checkpoint,
                 basePoint: $0.basePoint, virtualSize: $0.virtualSize, bytesRead: $0.bytesRead,
                 bytesStored: $0.bytesStored, chunksNew: $0.chunksNew, chunksReused: $0.chunksReused,
                 stageSeconds: $0.stageSeconds)
        }
    }
}
