import FleetAPI
import Foundation

/// `#running-jobs`: jobs that reported a start and no end yet, with how much they have read.
/// Their rate is read bytes over the time since the start, since `bytesPerSecond` exists
/// only once a job has finished.
enum RunningJobsSection {
    static func render(_ jobs: [JobInfo], now: Date) -> HTML {
        let content = jobs.isEmpty
            ? PageLayout.emptyState("No jobs running")
            : PageLayout.table(
                headers: ["Host", "VM", "Policy", "Started", "Read", "Rate"], numeric: [4, 5],
                rows: jobs.map { row($0, now: now) }
            )
        return PageLayout.section(id: "running-jobs", title: "Running jobs", content: content)
    }

    static func row(_ job: JobInfo, now: Date) -> HTML {
        let rate = rate(job, now: now).map(Format.rate) ?? "—"
        return """
        <tr data-job="\(job.id)">
        <td>\(job.hostName)</td><td>\(job.vmName)</td><td>\(job.policy)</td>
        <td>\(PageLayout.age(job.startedAt, now: now))</td>
        <td class="num">\(Format.bytes(job.bytesRead))</td><td class="num">\(rate)</td>
        </tr>
        """
    }

    static func rate(_ job: JobInfo, now: Date) -> Double? {
        if let known = job.bytesPerSecond { return known }
        guard let started = job.startedAt else { return nil }
        let elapsed = now.timeIntervalSince(started)
        return elapsed >= 1 ? Double(job.bytesRead) / elapsed : nil
    }
}
