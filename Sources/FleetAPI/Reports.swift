import Foundation

/// What an agent tells the server. Each report has an id made on the host when the report is
/// queued; the agent keeps it until the server acknowledges it, so a report sent twice (the
/// acknowledgement was lost, the agent restarted mid-delivery) is stored once.
public struct AgentReport: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// A job started or reached an end state (`job`); the later report of a job replaces the earlier.
        case job
        /// The host's VMs and disks, the agent's version and the policies it refused (`inventory`).
        case inventory
        /// How much a store holds (`storeUsage`).
        case storeUsage = "store-usage"
        /// One VM's DR drill verdict (`drill`).
        case drill
    }

    /// A UUID, lower case.
    public var id: String
    public var kind: Kind
    public var createdAt: Date
    public var job: JobReport?
    public var inventory: InventoryReport?
    public var storeUsage: StoreUsageReport?
    public var drill: DrillResultReport?

    public init(id: String = UUID().uuidString.lowercased(), createdAt: Date, job: JobReport) {
        self.id = id
        self.kind = .job
        self.createdAt = createdAt
        self.job = job
    }

    public init(id: String = UUID().uuidString.lowercased(), createdAt: Date, inventory: InventoryReport) {
        self.id = id
        self.kind = .inventory
        self.createdAt = createdAt
        self.inventory = inventory
    }

    public init(id: String = UUID().uuidString.lowercased(), createdAt: Date, storeUsage: StoreUsageReport) {
        self.id = id
        self.kind = .storeUsage
        self.createdAt = createdAt
        self.storeUsage = storeUsage
    }

    public init(id: String = UUID().uuidString.lowercased(), createdAt: Date, drill: DrillResultReport) {
        self.id = id
        self.kind = .drill
        self.createdAt = createdAt
        self.drill = drill
    }

    /// Nil when well formed; otherwise why not (the payload matching `kind` must be the only one
    /// present, and a drill's outcome is passed or failed).
    public var problem: String? {
        let present = [job != nil, inventory != nil, storeUsage != nil, drill != nil].filter { $0 }.count
        guard present == 1 else { return "report \(id): exactly one payload expected, found \(present)" }
        switch kind {
        case .job where job == nil, .inventory where inventory == nil, .storeUsage where storeUsage == nil,
             .drill where drill == nil:
            return "report \(id): kind \(kind.rawValue) without its payload"
        default:
            break
        }
        if let drill, !DrillResultReport.outcomes.contains(drill.outcome) {
            return "report \(id): drill outcome '\(drill.outcome.prefix(40))' is not passed or failed"
        }
        if let kind = job?.kind, !JobReport.kinds.contains(kind) {
            return "report \(id): job kind '\(kind.prefix(40))' is not backup, drill or copy"
        }
        return nil
    }
}

public struct JobReport: Codable, Sendable, Equatable {
    /// The agent's job id (a UUID).
    public var jobID: String
    public var vmUUID: String
    public var vmName: String
    public var policy: String
    /// schedule, catch-up, manual, retry.
    public var trigger: String
    /// running, succeeded, failed, missed, interrupted, skipped (a drill with no point to drill).
    public var state: String
    public var fullBackup: Bool
    public var queuedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var bytesRead: Int64
    public var bytesStored: Int64
    public var throttledSeconds: Double
    public var overran: Bool
    public var error: String?
    /// The point it made (succeeded backups), or the point it drilled (drills).
    public var point: PointReport?
    /// backup, drill or copy; absent (agents before drills) means backup.
    public var kind: String?

    public static let kinds: Set<String> = ["backup", "drill", "copy"]

    public init(jobID: String, vmUUID: String, vmName: String, policy: String, trigger: String, state: String,
                fullBackup: Bool, queuedAt: Date, startedAt: Date?, finishedAt: Date?, bytesRead: Int64,
                bytesStored: Int64, throttledSeconds: Double, overran: Bool, error: String?, point: PointReport?,
                kind: String? = nil) {
        self.jobID = jobID
        self.vmUUID = vmUUID
        self.vmName = vmName
        self.policy = policy
        self.trigger = trigger
        self.state = state
        self.fullBackup = fullBackup
        self.queuedAt = queuedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.bytesRead = bytesRead
        self.bytesStored = bytesStored
        self.throttledSeconds = throttledSeconds
        self.overran = overran
        self.error = error
        self.point = point
        self.kind = kind
    }
}

public struct PointReport: Codable, Sendable, Equatable {
    public var id: String
    /// The store it lives in (a path or URL, as the policy names it).
    public var store: String
    public var createdAt: Date
    /// full or incremental.
    public var kind: String
    /// Sum of the disks' sizes.
    public var logicalBytes: Int64
    /// New bytes the point added to the store.
    public var storedBytes: Int64

    public init(id: String, store: String, createdAt: Date, kind: String, logicalBytes: Int64, storedBytes: Int64) {
        self.id = id
        self.store = store
        self.createdAt = createdAt
        self.kind = kind
        self.logicalBytes = logicalBytes
        self.storedBytes = storedBytes
    }
}

public struct InventoryReport: Codable, Sendable, Equatable {
    public var agentVersion: String
    public var libvirtVersion: String?
    public var vms: [VMReport]
    /// Policies the agent refused (`NAME: why`); empty when all validated.
    public var policyErrors: [String]
    /// Versions of the policies in force, by name.
    public var policyVersions: [String: Int]

    public init(agentVersion: String, libvirtVersion: String?, vms: [VMReport], policyErrors: [String],
                policyVersions: [String: Int]) {
        self.agentVersion = agentVersion
        self.libvirtVersion = libvirtVersion
        self.vms = vms
        self.policyErrors = policyErrors
        self.policyVersions = policyVersions
    }
}

public struct VMReport: Codable, Sendable, Equatable {
    public var uuid: String
    public var name: String
    /// running, shut off, paused, …
    public var state: String
    public var tags: [String]
    public var disks: [DiskReport]
    /// The policy that selects it here, if any.
    public var policy: String?
    /// The oldest a last successful point may be before the VM is overdue (from the policy's schedules).
    public var maximumPointAgeSeconds: Double?

    public init(uuid: String, name: String, state: String, tags: [String], disks: [DiskReport], policy: String?,
                maximumPointAgeSeconds: Double?) {
        self.uuid = uuid
        self.name = name
        self.state = state
        self.tags = tags
        self.disks = disks
        self.policy = policy
        self.maximumPointAgeSeconds = maximumPointAgeSeconds
    }
}

public struct DiskReport: Codable, Sendable, Equatable {
    public var target: String
    public var source: String?
    public var capacityBytes: Int64?

    public init(target: String, source: String?, capacityBytes: Int64?) {
        self.target = target
        self.source = source
        self.capacityBytes = capacityBytes
    }
}

public struct StoreUsageReport: Codable, Sendable, Equatable {
    public var store: String
    public var storedBytes: Int64
    public var logicalBytes: Int64
    public var points: Int

    public init(store: String, storedBytes: Int64, logicalBytes: Int64, points: Int) {
        self.store = store
        self.storedBytes = storedBytes
        self.logicalBytes = logicalBytes
        self.points = points
    }
}

public struct ReportBatch: Codable, Sendable, Equatable {
    public var reports: [AgentReport]

    public init(reports: [AgentReport]) {
        self.reports = reports
    }
}

/// Every id of the batch is in exactly one list; the agent drops `accepted` and `duplicates`
/// from its queue. A malformed batch is refused whole (400) and nothing of it is stored.
public struct ReportReceipt: Codable, Sendable, Equatable {
    public var accepted: [String]
    /// Ids the server already had (a resend); acknowledged, not stored again.
    public var duplicates: [String]

    public init(accepted: [String], duplicates: [String]) {
        self.accepted = accepted
        self.duplicates = duplicates
    }
}
