import Foundation

/// One VM's DR drill as an agent reports it (`AgentReport.Kind.drill`): the verdict on one
/// point, with the times and checks an admin needs to trust it. The agent's drill report
/// (VBackupModel's `DrillVMResult`) is the source; this is what travels, so the API does not
/// depend on the drill's own types.
public struct DrillResultReport: Codable, Sendable, Equatable {
    /// The drill run's id (`drill-YYYYMMDD-HHMMSS-xxxx`); with the VM it names the result.
    public var drillID: String
    /// The agent's job that ran it, when the agent ran it on a schedule.
    public var jobID: String?
    public var vmUUID: String
    public var vmName: String
    public var pointID: String
    public var pointCreatedAt: Date
    public var startedAt: Date
    public var finishedAt: Date
    /// passed or failed.
    public var outcome: String
    /// Why it failed, one line.
    public var failure: String?
    /// restore, define, boot, checks or teardown.
    public var failedStep: String?
    /// overlay or copy.
    public var diskMode: String
    /// Seconds from the drill's start to the sandbox running.
    public var runningSeconds: Double?
    /// Seconds from the drill's start to every check passed: the measured recovery time (RTO).
    public var rtoSeconds: Double?
    public var checks: [DrillCheckReport]

    public init(drillID: String, jobID: String?, vmUUID: String, vmName: String, pointID: String, pointCreatedAt: Date,
                startedAt: Date, finishedAt: Date, outcome: String, failure: String?, failedStep: String?, diskMode: String,
                runningSeconds: Double?, rtoSeconds: Double?, checks: [DrillCheckReport]) {
        self.drillID = drillID
        self.jobID = jobID
        self.vmUUID = vmUUID
        self.vmName = vmName
        self.pointID = pointID
        self.pointCreatedAt = pointCreatedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.failure = failure
        self.failedStep = failedStep
        self.diskMode = diskMode
        self.runningSeconds = runningSeconds
        self.rtoSeconds = rtoSeconds
        self.checks = checks
    }

    /// The outcomes a drill ends with.
    public static let outcomes: Set<String> = ["passed", "failed"]
}

/// One health check of a drill.
public struct DrillCheckReport: Codable, Sendable, Equatable {
    /// running, guest-agent, console or script.
    public var kind: String
    /// passed, failed or skipped.
    public var status: String
    public var detail: String

    public init(kind: String, status: String, detail: String) {
        self.kind = kind
        self.status = status
        self.detail = detail
    }
}

/// The server's view of one VM's drill (`GET /api/v1/drills`): the host's report as it came,
/// and which host sent it. On the wire the report's keys sit beside `hostID` and `hostName` in
/// one flat object; in Swift its fields read through (`info.vmName`).
@dynamicMemberLookup
public struct DrillInfo: Codable, Sendable, Equatable {
    public var hostID: String
    public var hostName: String
    public var report: DrillResultReport

    public init(hostID: String, hostName: String, _ report: DrillResultReport) {
        self.hostID = hostID
        self.hostName = hostName
        self.report = report
    }

    public subscript<T>(dynamicMember keyPath: KeyPath<DrillResultReport, T>) -> T {
        report[keyPath: keyPath]
    }

    private enum HostKeys: String, CodingKey {
        case hostID, hostName
    }

    public init(from decoder: any Decoder) throws {
        let host = try decoder.container(keyedBy: HostKeys.self)
        hostID = try host.decode(String.self, forKey: .hostID)
        hostName = try host.decode(String.self, forKey: .hostName)
        report = try DrillResultReport(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try report.encode(to: encoder)
        var host = encoder.container(keyedBy: HostKeys.self)
        try host.encode(hostID, forKey: .hostID)
        try host.encode(hostName, forKey: .hostName)
    }
}

/// A VM's latest drill, as `GET /api/v1/vms` shows it.
public struct VMDrillSummary: Codable, Sendable, Equatable {
    public var drillID: String
    /// When the drill finished (its verdict).
    public var at: Date
    /// passed or failed.
    public var outcome: String
    public var rtoSeconds: Double?
    public var failure: String?

    public init(drillID: String, at: Date, outcome: String, rtoSeconds: Double?, failure: String?) {
        self.drillID = drillID
        self.at = at
        self.outcome = outcome
        self.rtoSeconds = rtoSeconds
        self.failure = failure
    }
}
