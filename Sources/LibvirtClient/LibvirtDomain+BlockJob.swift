import CLibvirt
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A running block job on one disk, as `virDomainGetBlockJobInfo` reports it. Progress is
/// `cur` of `end` (bytes for a pull: QEMU counts every byte of the disk it has streamed, holes
/// included); `bandwidth` is the job's limit in bytes/s, 0 for none.
public struct BlockJobInfo: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case pull, copy, commit, activeCommit, backup, other(Int32)

        init(_ raw: Int32) {
            switch UInt32(bitPattern: raw) {
            case VIR_DOMAIN_BLOCK_JOB_TYPE_PULL.rawValue: self = .pull
            case VIR_DOMAIN_BLOCK_JOB_TYPE_COPY.rawValue: self = .copy
            case VIR_DOMAIN_BLOCK_JOB_TYPE_COMMIT.rawValue: self = .commit
            case VIR_DOMAIN_BLOCK_JOB_TYPE_ACTIVE_COMMIT.rawValue: self = .activeCommit
            case VIR_DOMAIN_BLOCK_JOB_TYPE_BACKUP.rawValue: self = .backup
            default: self = .other(raw)
            }
        }
    }

    public var kind: Kind
    public var bandwidth: UInt64
    public var cur: UInt64
    public var end: UInt64

    public init(kind: Kind, bandwidth: UInt64, cur: UInt64, end: UInt64) {
        self.kind = kind
        self.bandwidth = bandwidth
        self.cur = cur
        self.end = end
    }

    /// QEMU reached the end; a pull then still has to be finished by libvirt (the job vanishes
    /// and the live XML loses the backing), a copy waits for a pivot or an abort.
    public var reachedEnd: Bool { end > 0 && cur == end }
}

/// Block jobs on a running domain's disks, named by target (`vda`) or image path. A job runs
/// inside QEMU, so it outlives this process; whoever starts one owns waiting for it or
/// aborting it.
extension LibvirtDomain {
    /// Starts a block pull (`virDomainBlockPull`: QEMU's block-stream with no base): every
    /// byte the disk's backing chain provides is copied into its top image, and once the job
    /// ends libvirt drops the backing from the live XML and the image's header. The guest keeps
    /// running and writing meanwhile. `bytesPerSecond` 0 means no limit.
    public func blockPull(disk: String, bytesPerSecond: UInt64 = 0) throws {
        try check(virDomainBlockPull(pointer, disk, UInt(bytesPerSecond), VIR_DOMAIN_BLOCK_PULL_BANDWIDTH_BYTES.rawValue),
                  "virDomainBlockPull(\(name), \(disk)) failed")
    }

    /// The disk's running block job, or nil when it has none (never started, or ended: libvirt
    /// has then already updated the live XML).
    public func blockJobInfo(disk: String) throws -> BlockJobInfo? {
        var info = virDomainBlockJobInfo()
        let found = try check(virDomainGetBlockJobInfo(pointer, disk, &info, VIR_DOMAIN_BLOCK_JOB_INFO_BANDWIDTH_BYTES.rawValue),
                              "virDomainGetBlockJobInfo(\(name), \(disk)) failed")
        guard found == 1 else { return nil }
        return BlockJobInfo(kind: .init(info.type), bandwidth: UInt64(info.bandwidth), cur: info.cur, end: info.end)
    }

    /// Changes a running job's bandwidth limit (0: none).
    public func setBlockJobSpeed(disk: String, bytesPerSecond: UInt64) throws {
        try check(virDomainBlockJobSetSpeed(pointer, disk, UInt(bytesPerSecond), VIR_DOMAIN_BLOCK_JOB_SPEED_BANDWIDTH_BYTES.rawValue),
                  "virDomainBlockJobSetSpeed(\(name), \(disk)) failed")
    }

    /// Ends the disk's block job (`virDomainBlockJobAbort`). A pull stops where it is (what it
    /// copied stays, the backing stays); `pivot` ends a copy or active commit that reached its
    /// end by switching the disk to the new image. Waits until libvirt has finished the job
    /// unless `async`, so a following `blockJobInfo` sees no job.
    public func abortBlockJob(disk: String, pivot: Bool = false, async: Bool = false) throws {
        var flags: UInt32 = 0
        if pivot { flags |= VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT.rawValue }
        if async { flags |= VIR_DOMAIN_BLOCK_JOB_ABORT_ASYNC.rawValue }
        try check(virDomainBlockJobAbort(pointer, disk, flags), "virDomainBlockJobAbort(\(name), \(disk)) failed")
    }

    /// Polls the disk's job every `interval` seconds, passing each reading to `progress`,
    /// until it has none; returns the last reading (nil if there was no job at all). Returns
    /// early when `shouldStop` says so after a reading; the job then still runs.
    /// Polling, not the event API, so no event loop is needed: libvirt removes a pull's job
    /// only after it has processed QEMU's completion.
    @discardableResult
    public func waitForBlockJob(
        disk: String, interval: Double = 0.2, progress: (BlockJobInfo) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) throws -> BlockJobInfo? {
        var last: BlockJobInfo?
        while let info = try blockJobInfo(disk: disk) {
            last = info
            progress(info)
            if shouldStop() { break }
            usleep(useconds_t(interval * 1_000_000))
        }
        return last
    }
}
