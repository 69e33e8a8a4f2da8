import Foundation
import StorageAdapter

/// What one `PointCopier.copy` did: which points it copied, found already there, refused or
/// could not copy, and what that cost in chunks and bytes.
public struct CopyReport: Codable, Sendable, Equatable {
    public var from: String
    public var to: String
    /// Points written to the target by this run.
    public var copied: [CopiedPoint] = []
    /// Points the target already had (its manifest exists there): skipped.
    public var alreadyThere: [CopiedPoint] = []
    /// Points never copied on purpose (marked damaged in the source), with why.
    public var refused: [UncopiedPoint] = []
    /// Points whose copy failed (a source chunk unreadable, the target failing), with why.
    public var failed: [UncopiedPoint] = []
    /// Non-zero chunks written to the target, and those the target already had.
    public var chunksSent = 0
    public var chunksDeduplicated = 0
    /// All-zero chunks: never read, never sent.
    public var zeroChunks = 0
    /// Bytes of chunk blobs and point objects (NVRAM) read from the source and written to the
    /// target; the small disk indexes and manifests aside.
    public var bytesRead = 0
    public var bytesSent = 0
    public var seconds = 0.0
    /// The requests this run made to each store when its adapter counts them (S3: a cost
    /// measure); nil for local stores.
    public var sourceRequests: RequestTally?
    public var targetRequests: RequestTally?
    /// The run stopped early (Ctrl-C): what was sent is kept, and a re-run resumes.
    public var interrupted = false

    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }

    /// Everything asked for is in the target.
    public var ok: Bool { refused.isEmpty && failed.isEmpty && !interrupted }
}

public struct CopiedPoint: Codable, Sendable, Equatable {
    public var id: String
    public var vm: String
    /// Until when the target's object lock keeps the copy (`CopyOptions.immutableFor`); absent
    /// for an ordinary copy and for a point that was already there.
    public var immutableUntil: Date?

    public init(id: String, vm: String, immutableUntil: Date? = nil) {
        self.id = id
        self.vm = vm
        self.immutableUntil = immutableUntil
    }
}

public struct UncopiedPoint: Codable, Sendable, Equatable {
    public var id: String
    public var vm: String
    public var reason: String
}

/// Where a copy is, for a progress display.
public enum CopyProgress: Sendable {
    /// Point `number` of `count` begins (1-based).
    case pointStarted(id: String, vm: String, number: Int, count: Int)
    /// A disk of the current point begins: its chunk count.
    case diskStarted(target: String, chunks: Int)
    /// This many more chunks of the current disk are done (sent, deduplicated or zero).
    case chunksDone(Int)
    /// Everything sent so far is durable and indexed in the target: a kill from here on
    /// loses only what is sent after it. The run's totals so far.
    case checkpointed(chunksSent: Int, bytesSent: Int)
    case pointFinished(id: String, outcome: Outcome)

    public enum Outcome: String, Sendable {
        case copied, alreadyThere, refused, failed
    }
}

/// Counters the copy threads add to; read once at the end into the report.
final class CopyTally: @unchecked Sendable {
    private let lock = NSLock()
    private var chunksSent = 0, deduplicated = 0, zero = 0, read = 0, written = 0

    func chunkSent(bytes: Int) { lock.withLock { chunksSent += 1; written += bytes } }
    func chunkDeduplicated() { lock.withLock { deduplicated += 1 } }
    func zeroChunk() { lock.withLock { zero += 1 } }
    func bytesRead(_ count: Int) { lock.withLock { read += count } }
    func bytesSent(_ count: Int) { lock.withLock { written += count } }

    var sent: (chunks: Int, bytes: Int) { lock.withLock { (chunksSent, written) } }

    func add(to report: inout CopyReport) {
        lock.withLock {
            report.chunksSent = chunksSent
            report.chunksDeduplicated = deduplicated
            report.zeroChunks = zero
            report.bytesRead = read
            report.bytesSent = written
        }
    }
}
