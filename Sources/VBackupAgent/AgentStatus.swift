import Foundation

/// What the agent is doing now: written atomically to `<state dir>/status.json` every second,
/// read by `vbackup status` (and served at `/status`). The JSON shape is stable for scripts:
/// fields are only ever added.
public struct AgentStatus: Codable, Sendable {
    public struct Agent: Codable, Sendable {
        public var pid: Int32
        public var host: String
        public var startedAt: Date
        public var updatedAt: Date
        public var stateDirectory: String
        public var policiesDirectory: String
        /// Loaded policies (name and file); a file with errors keeps its last good version.
        public var policies: [PolicyInfo]
        /// One line per problem with the policy files (`file:line: what`), empty when all is well.
        public var policyErrors: [String]
        /// Bumped on every reload of the policy folder (`vbackup agent reload` waits for it).
        public var policyGeneration: Int
        /// VMs that more than one policy selects: the winner backs them up, the others are named
        /// here, as an overlap is more often a mistake than a plan.
        public var policyOverlaps: [String]
        public var cpuControl: String
        public var vms: Int
        public var libvirt: String
        /// Set by readers (`vbackup status`): whether the agent still runs.
        public var alive: Bool?
    }

    public struct PolicyInfo: Codable, Sendable, Equatable {
        public var name: String
        public var file: String
        /// True when the file now fails validation and this is its last good version.
        public var keptLastGood: Bool
    }

    public struct Signals: Codable, Sendable, Equatable {
        public var cpuPressure: Double?
        public var ioPressure: Double?
        public var vmDiskLatencyMs: Double?
        public var vmDiskLatencyVM: String?
    }

    public struct Throttle: Codable, Sendable {
        /// normal, slowed, paused or recovering.
        public var state: String
        public var factor: Double
        public var reason: String
        public var hostLimit: UInt64?
        public var hostLimitSetBy: String?
        public var effectiveHostLimit: Double?
        public var maxConcurrentJobs: Int
        public var maxConcurrentJobsSetBy: String?
        public var hostRate: Double
        public var signals: Signals
    }

    public struct Running: Codable, Sendable {
        public var id: String
        /// backup or drill (absent in the status of an agent from before drills).
        public var kind: String?
        public var vm: String
        public var policy: String
        public var trigger: String
        public var full: Bool
        public var startedAt: Date
        public var windowEnd: Date?
        public var overran: Bool
        /// The finish time the current rate predicts lies past the window.
        public var willOverrun: Bool
        public var disk: String?
        public var bytesDone: UInt64
        public var bytesTotal: UInt64
        public var bytesRead: UInt64
        public var rate: Double
        public var limit: UInt64?
        public var share: Double?
        public var secondsThrottled: Double
    }

    /// A VM's next scheduled start.
    public struct Upcoming: Codable, Sendable, Equatable {
        public var vm: String
        public var policy: String
        public var at: Date
        /// drill for a policy's drill; absent for a backup.
        public var kind: String?
    }

    public struct Queued: Codable, Sendable {
        public var id: String
        /// backup or drill (absent in the status of an agent from before drills).
        public var kind: String?
        public var vm: String
        public var policy: String
        public var trigger: String
        public var priority: Int
        public var queuedAt: Date
        public var windowEnd: Date?
    }

    public struct Finished: Codable, Sendable {
        public var id: String
        /// backup or drill (absent in the status of an agent from before drills).
        public var kind: String?
        public var vm: String
        public var policy: String
        public var state: String
        public var trigger: String
        public var startedAt: Date?
        public var finishedAt: Date?
        public var point: String?
        public var bytesRead: Int64
        public var bytesStored: Int64
        public var throttledSeconds: Double
        public var overran: Bool
        public var error: String?

        init(_ job: JobRecord) {
            id = job.id
            kind = job.kind.rawValue
            vm = job.vmName
            policy = job.policy
            state = job.state.rawValue
            trigger = job.trigger.rawValue
            startedAt = job.startedAt
            finishedAt = job.finishedAt
            point = job.pointID
            bytesRead = job.bytesRead
            bytesStored = job.bytesStored
            throttledSeconds = job.throttledSeconds
            overran = job.overran
            error = job.error
        }
    }

    /// An enrolled agent's link to its policy server (absent when not enrolled).
    public struct Server: Codable, Sendable {
        public var url: String
        public var hostName: String
        public var hostID: String
        /// Where the policies in force come from (the server's cache folder).
        public var policySource: String
        /// The last poll the server answered (with policies or "unchanged").
        public var lastPoll: Date?
        /// Why the last poll failed, while the server does not answer.
        public var lastError: String?
        public var lastErrorAt: Date?
        public var bundleEtag: String?
        /// The server's policies this agent refused (their previous versions stay in force).
        public var refusedPolicies: [String]
        /// Reports waiting for the server, and the age in seconds of the oldest.
        public var outboxLength: Int
        public var oldestQueuedReportAge: Double?
        public var lastDelivery: Date?
        public var deliveryError: String?
    }

    public var agent: Agent
    public var throttle: Throttle
    public var running: [Running]
    public var queued: [Queued]
    public var recent: [Finished]
    public var next: [Upcoming]
    public var server: Server?

    public static let fileName = "status.json"

    /// ISO 8601 with milliseconds: rates computed from two status documents a second apart
    /// need better than whole seconds.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            let precise = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
            if let date = try? precise.parse(text) ?? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 date: \(text)"))
        }
        return decoder
    }()

    /// Writes the document next to itself and renames it into place, so a reader never sees
    /// half of it.
    func write(to directory: URL) throws {
        let data = try Self.encoder.encode(self)
        let target = directory.appendingPathComponent(Self.fileName)
        let temporary = directory.appendingPathComponent(".\(Self.fileName).tmp")
        try data.write(to: temporary)
        _ = rename(temporary.path, target.path)
    }

    /// The last document the agent in `directory` wrote.
    public static func read(from directory: URL) throws -> AgentStatus {
        let url = directory.appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw AgentError.notRunning("no agent has run with state directory \(directory.path) (no \(fileName))")
        }
        do {
            return try decoder.decode(AgentStatus.self, from: data)
        } catch {
            throw AgentError.notRunning("\(url.path) is not a status document: \(error)")
        }
    }
}
