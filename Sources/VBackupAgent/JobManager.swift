import Foundation
import Logging
import ResourceControl
import VBackupPolicy

/// The host-wide job queue: starts queued jobs by priority (then age) while slots are free,
/// never two for one VM (so never a drill beside a backup of its VM), one drill at a time
/// (each boots a guest), never after their window closed, and not at all while the adaptive
/// throttle pauses the host. Each job runs on its own thread; its end is written to the journal
/// before it leaves the running set, so no result is lost to a crash after that point.
final class JobManager: @unchecked Sendable {
    private let journal: JobJournal
    private let governor: BandwidthGovernor
    private let logger: Logger
    private let metrics: AgentMetrics
    private let lock = NSLock()
    private var running: [String: RunningJob] = [:]
    private let finished = DispatchGroup()
    /// Seconds the job has waited on the bandwidth throttle so far.
    func secondsThrottled(_ job: RunningJob) -> Double {
        governor.snapshot().jobs.first { $0.name == job.record.id }?.secondsWaited ?? 0
    }

    /// Runs a job to its end; set by the agent (it knows the connection, stores and policies).
    var execute: (RunningJob) -> Void = { _ in }

    init(journal: JobJournal, governor: BandwidthGovernor, metrics: AgentMetrics, logger: Logger) {
        self.journal = journal
        self.governor = governor
        self.metrics = metrics
        self.logger = logger
    }

    var runningJobs: [RunningJob] { lock.withLock { running.values.sorted { $0.record.queuedAt < $1.record.queuedAt } } }

    func isRunning(vmUUID: String) -> Bool { lock.withLock { running.values.contains { $0.record.vmUUID == vmUUID } } }

    var isDrilling: Bool { lock.withLock { running.values.contains { $0.record.kind == .drill } } }

    /// Starts what may start now. `slots` is the host's concurrency limit at this instant.
    func dispatch(now: Date, slots: Int, paused: Bool, jobBandwidth: (String) -> UInt64?) throws {
        var queued = try journal.jobs(in: [.queued]).sorted {
            ($0.priority, $1.queuedAt) > ($1.priority, $0.queuedAt)
        }
        for job in queued where job.windowEnd.map({ now >= $0 }) == true {
            var missed = job
            missed.state = .missed
            missed.finishedAt = now
            missed.error = "its window closed at \(ISO8601DateFormatter().string(from: job.windowEnd!)) before a slot was free"
            try journal.update(missed)
            metrics.jobFinished(missed)
            logger.warning("job missed its window", metadata: ["vm": "\(job.vmName)", "policy": "\(job.policy)"])
        }
        queued.removeAll { $0.windowEnd.map { now >= $0 } == true }
        guard !paused else { return }
        for job in queued {
            guard lock.withLock({ running.count }) < slots else { return }
            guard !isRunning(vmUUID: job.vmUUID) else { continue }
            if job.kind == .drill && isDrilling { continue }
            try start(job, now: now, limit: jobBandwidth(job.policy))
        }
    }

    private func start(_ job: JobRecord, now: Date, limit: UInt64?) throws {
        var record = job
        record.state = .running
        record.startedAt = now
        record.agentPID = getpid()
        try journal.update(record)
        let runningJob = RunningJob(record: record, bandwidth: governor.register(name: record.id, limit: limit))
        let id = record.id
        lock.withLock { running[record.id] = runningJob }
        logger.info("job started", metadata: ["job": "\(record.id)", "kind": "\(record.kind.rawValue)", "vm": "\(record.vmName)", "policy": "\(record.policy)",
                                              "trigger": "\(record.trigger.rawValue)", "full": "\(record.fullBackup)"])
        finished.enter()
        Thread.detachNewThread { [self] in
            execute(runningJob)
            lock.withLock { _ = running.removeValue(forKey: id) }
            finished.leave()
        }
    }

    /// Marks jobs that run past their window (they go on: a finished backup late is worth more
    /// than a cancelled one) and updates each job's bandwidth limit from the policy.
    func supervise(now: Date, jobBandwidth: (String) -> UInt64?) {
        for job in runningJobs {
            let record = job.record
            job.bandwidth.setLimit(jobBandwidth(record.policy))
            if let end = record.windowEnd, now >= end, !record.overran {
                _ = job.update { $0.overran = true }
                logger.warning("job runs past its window", metadata: ["vm": "\(record.vmName)", "policy": "\(record.policy)"])
            }
        }
    }

    /// Cancels every running job and waits (up to `timeout`) for them to record their end.
    func stopAll(reason: String, timeout: TimeInterval) -> Bool {
        for job in runningJobs { job.cancel(reason) }
        return finished.wait(timeout: .now() + timeout) == .success
    }
}
