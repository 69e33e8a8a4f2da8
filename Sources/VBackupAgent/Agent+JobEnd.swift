import FleetAPI
import Foundation

/// How every kind of job (backup, drill, copy) ends: the same states, journal entry and metrics,
/// whatever it produced.
extension Agent {
    /// A job that threw: interrupted when it was stopped (and queued again when the agent
    /// itself stopped, while its window is open), failed otherwise.
    func ended(_ job: RunningJob, by error: Error) -> JobRecord {
        let cancelled = job.cancellation
        let ended = job.update {
            $0.state = cancelled == nil ? .failed : .interrupted
            $0.error = cancelled ?? "\(error)"
        }
        if cancelled == AgentStopReason.text { requeue(ended, now: config.clock.now) }
        return ended
    }

    /// Returns the job's bandwidth, stamps its end (`stamp` adds what differs per kind, e.g.
    /// whether it overran its window), records it with the point or drill it reports, and counts
    /// it. A journal that cannot be written is logged, not thrown: the job's work is done.
    func finish(_ job: RunningJob, point: PointReport?, drill: DrillResultReport? = nil,
                stamp: (inout JobRecord) -> Void) -> JobRecord {
        job.bandwidth.finish()
        let ended = job.update {
            $0.finishedAt = config.clock.now
            stamp(&$0)
        }
        do {
            try journal.update(ended, point: point, drill: drill)
        } catch {
            logger.critical("cannot record a \(ended.kind.rawValue) job's end", metadata: ["job": "\(ended.id)", "error": "\(error)"])
        }
        metrics.jobFinished(ended)
        return ended
    }
}
