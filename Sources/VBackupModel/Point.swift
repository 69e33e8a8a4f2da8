import Foundation

/// A restore point: one backup of one VM. Complete on its own: every disk's index names every
/// chunk of the disk, so restoring it never replays a chain.
///
/// The manifest is the commit record: it is written last, after every chunk and index it names
/// is durable, so a point is visible only when it is whole.
public struct PointManifest: Codable, Hashable, Sendable {
    public static let formatVersion = 1

    public enum Consistency: String, Codable, Sendable {
        /// The guest agent froze the filesystems around the job start.
        case quiesced
        /// A running VM without a (working) guest agent: like pulling the power plug.
        case crashConsistent = "crash-consistent"
        /// The VM was shut off: its disks were at rest.
        case shutoff
    }

    public var version: Int
    public var id: String
    public var vmName: String
    public var vmUUID: String
    public var createdAt: Date
    /// When reading finished (the point-in-time itself is `createdAt`: the job start).
    public var finishedAt: Date
    public var consistency: Consistency
    /// Why it got the consistency it got, e.g. the guest agent's error. Empty when quiesced.
    public var consistencyNote: String?
    public var host: String
    public var domainXML: String
    /// Store key of the saved NVRAM file, when the domain has one.
    public var nvramKey: String?
    public var nvramPath: String?
    public var disks: [PointDisk]
    /// Written with S3 Object Lock: until this date no one, not even an operator holding the
    /// store's credentials, can delete or shorten the point's objects (and the packs it needs
    /// are retained at least as long). Nil for an ordinary point; older manifests lack it.
    public var immutableUntil: Date?

    public init(
        id: String, vmName: String, vmUUID: String, createdAt: Date, finishedAt: Date,
        consistency: Consistency, consistencyNote: String?, host: String, domainXML: String,
        nvramKey: String?, nvramPath: String?, disks: [PointDisk], immutableUntil: Date? = nil
    ) {
        self.version = Self.formatVersion
        self.id = id
        self.vmName = vmName
        self.vmUUID = vmUUID
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.consistency = consistency
        self.consistencyNote = consistencyNote
        self.host = host
        self.domainXML = domainXML
        self.nvramKey = nvramKey
        self.nvramPath = nvramPath
        self.disks = disks
        self.immutableUntil = immutableUntil
    }

    /// Whether the point's storage still refuses to delete it at `date`.
    public func isImmutable(at date: Date = Date()) -> Bool {
        immutableUntil.map { $0 > date } ?? false
    }

    public var logicalSize: UInt64 { disks.reduce(0) { $0 + $1.virtualSize } }
    public var bytesRead: UInt64 { disks.reduce(0) { $0 + $1.bytesRead } }
    public var bytesStored: UInt64 { disks.reduce(0) { $0 + $1.bytesStored } }
}

/// One disk inside a point.
public struct PointDisk: Codable, Hashable, Sendable {
    public enum Mode: String, Codable, Sendable {
        case full, incremental
    }

    public var target: String
    public var sourcePath: String
    public var format: String
    public var virtualSize: UInt64
    public var chunkSize: Int
    public var mode: Mode
    /// Why this disk was read in full although an incremental was asked for (self-healing).
    public var fullReason: String?
    /// The libvirt checkpoint (and qcow2 bitmap) whose state this point's data continues from:
    /// the next incremental of this disk reads what is dirty since it and takes the rest from
    /// this point. Nil for disks that cannot be backed up incrementally.
    public var checkpoint: String?
    /// Point this incremental took its clean chunks from.
    public var basePoint: String?
    /// Store key of the disk's chunk index, and the SHA-256 (hex) of that object's bytes.
    public var indexKey: String
    public var indexDigest: String
    /// Bytes read from the disk (NBD), bytes of new compressed chunk data written to the store,
    /// and bytes of the disk that are non-zero (allocated data).
    public var bytesRead: UInt64
    public var bytesStored: UInt64
    public var dataBytes: UInt64
    public var chunksNew: Int
    public var chunksReused: Int
    /// Thread-seconds spent per pipeline stage: what limited this disk's backup.
    public var stageSeconds: StageSeconds?

    public init(
        target: String, sourcePath: String, format: String, virtualSize: UInt64, chunkSize: Int,
        mode: Mode, fullReason: String?, checkpoint: String?, basePoint: String?,
        indexKey: String, indexDigest: String, bytesRead: UInt64, bytesStored: UInt64,
        dataBytes: UInt64, chunksNew: Int, chunksReused: Int, stageSeconds: StageSeconds? = nil
    ) {
        self.target = target
        self.sourcePath = sourcePath
        self.format = format
        self.virtualSize = virtualSize
        self.chunkSize = chunkSize
        self.mode = mode
        self.fullReason = fullReason
        self.checkpoint = checkpoint
        self.basePoint = basePoint
        self.indexKey = indexKey
        self.indexDigest = indexDigest
        self.bytesRead = bytesRead
        self.bytesStored = bytesStored
        self.dataBytes = dataBytes
        self.chunksNew = chunksNew
        self.chunksReused = chunksReused
        self.stageSeconds = stageSeconds
    }
}

/// Time spent in each stage of a disk's backup, summed over the threads of that stage.
public struct StageSeconds: Codable, Hashable, Sendable {
    /// Reading from the disk (NBD), on the reader thread.
    public var read: Double
    /// Merging with the base chunk, zero detection, SHA-256 and zstd, on the worker threads.
    public var encode: Double
    /// Handing chunks to the store (pack writes), on the worker threads.
    public var store: Double

    public init(read: Double, encode: Double, store: Double) {
        self.read = read
        self.encode = encode
        self.store = store
    }
}
