import VBackupModel

/// How one disk will be read in this backup, and why.
struct DiskPlan {
    var disk: DomainDescription.Disk
    var image: ImageInfo
    /// The checkpoint (bitmap) to read changes since, and the base point that holds the rest.
    var incrementalFrom: String?
    var base: PointDisk?
    var basePointID: String?
    /// Why the disk is read in full although it could have been incremental.
    var fullReason: String?

    var tracksChanges: Bool { image.supportsBitmaps }
    var isIncremental: Bool { incrementalFrom != nil }

    mutating func fallBackToFull(_ reason: String) {
        incrementalFrom = nil
        base = nil
        basePointID = nil
        fullReason = reason
    }

    /// Plans every disk against the VM's latest point: a disk is incremental only when the last
    /// point has it with the same size and a checkpoint to continue from.
    /// A point that verify marked damaged is never a base: the backup reads everything, which
    /// stores again the chunks the damaged point lost (and so heals every point that needs them).
    static func make(
        disks: [DomainDescription.Disk], images: [ImageInfo], latest: PointManifest?, damaged: Set<String> = [], forceFull: Bool
    ) -> [DiskPlan] {
        zip(disks, images).map { disk, image in
            var plan = DiskPlan(disk: disk, image: image)
            guard image.supportsBitmaps else { return plan }
            if forceFull { plan.fullReason = "full backup requested"; return plan }
            guard let latest else { plan.fullReason = "first backup of this VM"; return plan }
            guard !damaged.contains(latest.id) else {
                plan.fullReason = "point \(latest.id) is marked damaged by verify; reading everything to heal it"
                return plan
            }
            guard let previous = latest.disks.first(where: { $0.target == disk.target }) else {
                plan.fullReason = "disk \(disk.target) is new since point \(latest.id)"
                return plan
            }
            guard previous.virtualSize == image.virtualSize else {
                plan.fullReason = "disk \(disk.target) was resized since point \(latest.id)"
                return plan
            }
            guard previous.sourcePath == disk.sourcePath else {
                plan.fullReason = "disk \(disk.target) now comes from \(disk.sourcePath), was \(previous.sourcePath)"
                return plan
            }
            guard let checkpoint = previous.checkpoint else {
                plan.fullReason = "point \(latest.id) left no checkpoint for \(disk.target)"
                return plan
            }
            plan.incrementalFrom = checkpoint
            plan.base = previous
            plan.basePointID = latest.id
            return plan
        }
    }
}

extension DiskPlan {
    init(disk: DomainDescription.Disk, image: ImageInfo) {
        self.disk = disk
        self.image = image
    }
}
