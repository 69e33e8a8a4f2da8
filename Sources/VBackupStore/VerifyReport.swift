import Foundation

/// What to verify.
public struct VerifyOptions: Sendable {
    /// Only these points (ids); nil for all.
    public var pointIDs: [String]?
    /// Only points of this VM (name or UUID).
    public var vm: String?
    /// Only points created at or after this date.
    public var since: Date?
    /// Re-read this share of the packs (chosen at random), 0...100. Metadata and the presence of
    /// every chunk are always checked in full.
    public var samplePercent: Double
    /// Mark damaged points, move bad objects aside, re-index what can be re-indexed.
    public var repair: Bool

    public init(pointIDs: [String]? = nil, vm: String? = nil, since: Date? = nil, samplePercent: Double = 100, repair: Bool = true) {
        self.pointIDs = pointIDs
        self.vm = vm
        self.since = since
        self.samplePercent = samplePercent
        self.repair = repair
    }
}

/// What verify found. Stable JSON for scripts: `ok` is true only when nothing is damaged.
public struct VerifyReport: Codable, Sendable {
    public var ok: Bool
    public var pointsChecked: Int
    public var damaged: [PointDamage]
    /// Points that were marked damaged and now verify intact (their marks are cleared).
    public var healed: [String]
    public var badObjects: [BadObject]
    public var missingChunks: Int
    public var badChunks: Int
    public var packsChecked: Int
    public var packsSkipped: Int
    public var chunksChecked: Int
    public var bytesRead: Int
    public var seconds: Double
    /// Data read and checked per second, in MB (10^6 bytes).
    public var megabytesPerSecond: Double
}

/// An object verify could not use, and where repair moved it (nil: left in place).
public struct BadObject: Codable, Sendable, Equatable {
    public var key: String
    public var reason: String
    public var movedTo: String?
}
