import Foundation

/// What one `vbackup drill` run found: the document scripts read (`--json`), the HTML report is
/// made from, the store keeps beside each point and the agent reports to the server.
///
/// Stable schema: fields are only ever added. `schemaVersion` changes only when a field changes
/// meaning or goes away. Times are ISO 8601 UTC, durations are seconds (fractions allowed).
public struct DrillReport: Codable, Hashable, Sendable {
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    /// Unique per run (`drill-YYYYMMDD-HHMMSS-xxxx`): names the sandbox domains and folder.
    public var id: String
    public var host: String
    public var startedAt: Date
    public var finishedAt: Date
    /// `passed` when every VM passed; `failed` when one did not.
    public var outcome: DrillOutcome
    public var vms: [DrillVMResult]

    public init(id: String, host: String, startedAt: Date, finishedAt: Date, vms: [DrillVMResult]) {
        self.schemaVersion = Self.currentSchemaVersion
        self.id = id
        self.host = host
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.vms = vms
        self.outcome = vms.allSatisfy { $0.outcome == .passed } && !vms.isEmpty ? .passed : .failed
    }
}

public enum DrillOutcome: String, Codable, Hashable, Sendable {
    case passed, failed
}

/// One VM's drill: its point restored into the sandbox, booted and checked.
public struct DrillVMResult: Codable, Hashable, Sendable {
    public var vm: String
    public var vmUUID: String
    public var pointID: String
    public var pointCreatedAt: Date
    /// The sandbox domain's name (never the production VM's).
    public var sandboxName: String
    public var outcome: DrillOutcome
    /// Why it failed, one line; nil when it passed.
    public var failure: String?
    /// The step it failed in: `restore`, `define`, `boot`, `checks`, `teardown`.
    public var failedStep: String?
    /// How the disks reached the sandbox: `overlay` (qcow2 overlays over vbackup's NBD export of
    /// the point) or `copy` (a full restore into the scratch folder).
    public var diskMode: String
    public var timings: DrillTimings
    public var checks: [DrillCheckResult]
    /// The last lines of the sandbox's serial console (at most 40), for the report.
    public var consoleTail: [String]
    /// Reads the store could not serve while the sandbox ran (corrupt or lost chunks).
    public var storeErrors: [String]
    /// True when everything the drill created is gone again (false with `--keep`).
    public var cleanedUp: Bool

    /// Every key is written, `null` when empty (`failure`, `failedStep` of a passed drill).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(vm, forKey: .vm)
        try container.encode(vmUUID, forKey: .vmUUID)
        try container.encode(pointID, forKey: .pointID)
        try container.encode(pointCreatedAt, forKey: .pointCreatedAt)
        try container.encode(sandboxName, forKey: .sandboxName)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(failure, forKey: .failure)
        try container.encode(failedStep, forKey: .failedStep)
        try container.encode(diskMode, forKey: .diskMode)
        try container.encode(timings, forKey: .timings)
        try container.encode(checks, forKey: .checks)
        try container.encode(consoleTail, forKey: .consoleTail)
        try container.encode(storeErrors, forKey: .storeErrors)
        try container.encode(cleanedUp, forKey: .cleanedUp)
    }

    public init(
        vm: String, vmUUID: String, pointID: String, pointCreatedAt: Date, sandboxName: String, outcome: DrillOutcome,
        failure: String?, failedStep: String?, diskMode: String, timings: DrillTimings, checks: [DrillCheckResult],
        consoleTail: [String], storeErrors: [String], cleanedUp: Bool
    ) {
        self.vm = vm
        self.vmUUID = vmUUID
        self.pointID = pointID
        self.pointCreatedAt = pointCreatedAt
        self.sandboxName = sandboxName
        self.outcome = outcome
        self.failure = failure
        self.failedStep = failedStep
        self.diskMode = diskMode
        self.timings = timings
        self.checks = checks
        self.consoleTail = consoleTail
        self.storeErrors = storeErrors
        self.cleanedUp = cleanedUp
    }
}

/// Seconds from the drill's start for this VM. Nil when the step was never reached.
public struct DrillTimings: Codable, Hashable, Sendable {
    /// Disks ready in the sandbox (restored or overlaid).
    public var disksReady: Double?
    /// The sandbox domain reported running.
    public var running: Double?
    /// Every check passed: the measured recovery time (RTO).
    public var healthy: Double?
    /// Teardown took this long (not part of the RTO).
    public var teardown: Double?

    /// Every key is written, `null` for a step never reached: scripts read a fixed set of keys.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(disksReady, forKey: .disksReady)
        try container.encode(running, forKey: .running)
        try container.encode(healthy, forKey: .healthy)
        try container.encode(teardown, forKey: .teardown)
    }

    public init(disksReady: Double? = nil, running: Double? = nil, healthy: Double? = nil, teardown: Double? = nil) {
        self.disksReady = disksReady
        self.running = running
        self.healthy = healthy
        self.teardown = teardown
    }
}

/// One health check and what it found.
public struct DrillCheckResult: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Hashable, Sendable {
        /// The domain reached running and stayed up for the settle time.
        case running
        /// The QEMU guest agent answered `guest-ping`.
        case guestAgent = "guest-agent"
        /// A console line matched the expected pattern (and none matched a failure pattern).
        case console
        /// The user's check script exited 0.
        case script
    }

    public enum Status: String, Codable, Hashable, Sendable {
        case passed, failed
        /// Not run: an earlier check failed, or it does not apply (no guest agent configured).
        case skipped
    }

    public var kind: Kind
    public var status: Status
    /// What it saw: the matched console line, the script's last output line, the error.
    public var detail: String
    /// Seconds from the drill's start for this VM to the check's verdict.
    public var at: Double?

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(status, forKey: .status)
        try container.encode(detail, forKey: .detail)
        try container.encode(at, forKey: .at)   // null, not absent: the schema's keys are fixed
    }

    public init(kind: Kind, status: Status, detail: String, at: Double?) {
        self.kind = kind
        self.status = status
        self.detail = detail
        self.at = at
    }
}

/// A drill's verdict on one point, as the store keeps it beside the point (and the agent
/// reports it to the server): enough to say when the VM last passed a drill, and why not.
public struct DrillRecord: Codable, Hashable, Sendable {
    public var drillID: String
    public var host: String
    public var recordedAt: Date
    public var result: DrillVMResult

    public init(drillID: String, host: String, recordedAt: Date, result: DrillVMResult) {
        self.drillID = drillID
        self.host = host
        self.recordedAt = recordedAt
        self.result = result
    }
}
