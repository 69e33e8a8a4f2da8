import Foundation

/// What the server knows of the fleet, as the admin API and the dashboard show it.
public struct HostInfo: Codable, Sendable, Equatable {
    public enum Health: String, Codable, Sendable {
        /// In contact, no failed job since its last success per VM, no refused policy.
        case ok
        /// A VM's latest backup or drill failed, a VM is overdue, or the agent refused a policy.
        case warning
        /// No contact for more than 10 minutes.
        case unreachable
        /// Its credential was revoked.
        case revoked
    }

    public var id: String
    public var name: String
    public var groups: [String]
    public var agentVersion: String
    public var libvirtVersion: String?
    public var enrolledAt: Date
    public var lastContact: Date?
    public var revoked: Bool
    public var health: Health
    /// Why the health is not ok, one line each.
    public var problems: [String]
    public var vmCount: Int
    public var policyErrors: [String]

    public init(id: String, name: String, groups: [String], agentVersion: String, libvirtVersion: String?,
                enrolledAt: Date, lastContact: Date?, revoked: Bool, health: Health, problems: [String],
                vmCount: Int, policyErrors: [String]) {
        self.id = id
        self.name = name
        self.groups = groups
        self.agentVersion = agentVersion
        self.libvirtVersion = libvirtVersion
        self.enrolledAt = enrolledAt
        self.lastContact = lastContact
        self.revoked = revoked
        self.health = health
        self.problems = problems
        self.vmCount = vmCount
        self.policyErrors = policyErrors
    }
}

public struct HostDetail: Codable, Sendable, Equatable {
    public var host: HostInfo
    public var vms: [VMInfo]

    public init(host: HostInfo, vms: [VMInfo]) {
        self.host = host
        self.vms = vms
    }
}

public struct VMInfo: Codable, Sendable, Equatable {
    public var hostID: String
    public var hostName: String
    public var uuid: String
    public var name: String
    public var state: String
    public var tags: [String]
    public var disks: [DiskReport]
    public var policy: String?
    public var lastPointID: String?
    public var lastPointAt: Date?
    /// Seconds since `lastPointAt`, at the time of the request.
    public var lastPointAgeSeconds: Double?
    public var maximumPointAgeSeconds: Double?
    /// A policy selects it and its last point is older than the policy allows (or it has none).
    public var overdue: Bool
    /// The state of its newest backup job (drills are `lastDrill`).
    public var lastJobState: String?
    /// Its newest drill, whatever the outcome.
    public var lastDrill: VMDrillSummary?
    /// When it last passed a drill.
    public var lastPassedDrillAt: Date?

    public init(hostID: String, hostName: String, uuid: String, name: String, state: String, tags: [String],
                disks: [DiskReport], policy: String?, lastPointID: String?, lastPointAt: Date?,
                lastPointAgeSeconds: Double?, maximumPointAgeSeconds: Double?, overdue: Bool, lastJobState: String?,
                lastDrill: VMDrillSummary? = nil, lastPassedDrillAt: Date? = nil) {
        self.hostID = hostID
        self.hostName = hostName
        self.uuid = uuid
        self.name = name
        self.state = state
        self.tags = tags
        self.disks = disks
        self.policy = policy
        self.lastPointID = lastPointID
        self.lastPointAt = lastPointAt
        self.lastPointAgeSeconds = lastPointAgeSeconds
        self.maximumPointAgeSeconds = maximumPointAgeSeconds
        self.overdue = overdue
        self.lastJobState = lastJobState
        self.lastDrill = lastDrill
        self.lastPassedDrillAt = lastPassedDrillAt
    }
}

/// The server's view of one job.
public struct JobInfo: Codable, Sendable, Equatable {
    public var id: String
    public var hostID: String
    public var hostName: String
    public var vmUUID: String
    public var vmName: String
    public var policy: String
    public var trigger: String
    public var state: String
    public var fullBackup: Bool
    public var queuedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var bytesRead: Int64
    public var bytesStored: Int64
    /// bytesRead / (finishedAt − startedAt); nil without both times.
    public var bytesPerSecond: Double?
    public var throttledSeconds: Double
    public var overran: Bool
    public var error: String?
    /// The point it made (backups) or drilled (drills).
    public var pointID: String?
    /// backup or drill.
    public var kind: String

    public init(id: String, hostID: String, hostName: String, vmUUID: String, vmName: String, policy: String,
                trigger: String, state: String, fullBackup: Bool, queuedAt: Date, startedAt: Date?, finishedAt: Date?,
                bytesRead: Int64, bytesStored: Int64, bytesPerSecond: Double?, throttledSeconds: Double,
                overran: Bool, error: String?, pointID: String?, kind: String = "backup") {
        self.id = id
        self.hostID = hostID
        self.hostName = hostName
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
        self.bytesPerSecond = bytesPerSecond
        self.throttledSeconds = throttledSeconds
        self.overran = overran
        self.error = error
        self.pointID = pointID
        self.kind = kind
    }
}

public struct PointInfo: Codable, Sendable, Equatable {
    public var id: String
    public var hostID: String
    public var hostName: String
    public var vmUUID: String
    public var vmName: String
    public var store: String
    public var createdAt: Date
    public var kind: String
    public var logicalBytes: Int64
    public var storedBytes: Int64
    public var jobID: String

    public init(id: String, hostID: String, hostName: String, vmUUID: String, vmName: String, store: String,
                createdAt: Date, kind: String, logicalBytes: Int64, storedBytes: Int64, jobID: String) {
        self.id = id
        self.hostID = hostID
        self.hostName = hostName
        self.vmUUID = vmUUID
        self.vmName = vmName
        self.store = store
        self.createdAt = createdAt
        self.kind = kind
        self.logicalBytes = logicalBytes
        self.storedBytes = storedBytes
        self.jobID = jobID
    }
}

/// One store as seen from one host, with its samples over time (one per report, oldest first).
public struct StoreUsageInfo: Codable, Sendable, Equatable {
    public struct Sample: Codable, Sendable, Equatable {
        public var at: Date
        public var storedBytes: Int64
        public var logicalBytes: Int64
        public var points: Int

        public init(at: Date, storedBytes: Int64, logicalBytes: Int64, points: Int) {
            self.at = at
            self.storedBytes = storedBytes
            self.logicalBytes = logicalBytes
            self.points = points
        }
    }

    public var hostID: String
    public var hostName: String
    public var store: String
    public var samples: [Sample]

    public init(hostID: String, hostName: String, store: String, samples: [Sample]) {
        self.hostID = hostID
        self.hostName = hostName
        self.store = store
        self.samples = samples
    }
}

/// Bytes backed up per night (jobs grouped by the UTC date of their start − 12 h, so a night
/// that crosses midnight is one bar).
public struct NightlyThroughput: Codable, Sendable, Equatable {
    /// yyyy-MM-dd.
    public var night: String
    public var bytesRead: Int64
    public var bytesStored: Int64
    public var jobs: Int
    public var failedJobs: Int

    public init(night: String, bytesRead: Int64, bytesStored: Int64, jobs: Int, failedJobs: Int) {
        self.night = night
        self.bytesRead = bytesRead
        self.bytesStored = bytesStored
        self.jobs = jobs
        self.failedJobs = failedJobs
    }
}

/// Every error response: `{"error": "one line"}` with a 4xx/5xx status.
public struct APIError: Codable, Sendable, Equatable, Error {
    public var error: String

    public init(_ error: String) {
        self.error = error
    }
}

public struct HealthStatus: Codable, Sendable, Equatable {
    public var status: String
    public var version: String
    /// sqlite or postgresql.
    public var database: String

    public init(status: String, version: String, database: String) {
        self.status = status
        self.version = version
        self.database = database
    }
}

/// JSON as the API writes and reads it: ISO 8601 dates with milliseconds, sorted keys.
public enum APIJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatDate(date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseDate(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an ISO 8601 date: \(text)")
            }
            return date
        }
        return decoder
    }

    public static func formatDate(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    public static func parseDate(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
            ?? (try? Date.ISO8601FormatStyle().parse(text))
    }
}
