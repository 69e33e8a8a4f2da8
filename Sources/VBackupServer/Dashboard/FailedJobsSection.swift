import FleetAPI
import Foundation

/// `#failed-jobs`: the latest failed, missed or interrupted jobs (the snapshot holds at most
/// 50, newest first) with the agent's error text in full, since that text is usually all an
/// admin needs to act.
enum FailedJobsSection {
    static func render(_ jobs: [JobInfo], now: Date) -> HTML {
        let content = jobs.isEmpty
            ? PageLayout.emptyState("No failed jobs")
            : PageLayout.table(
                headers: ["Host", "VM", "Policy", "Finished", "Error", "Read"], numeric: [5],
                rows: jobs.map { row($0, now: now) }
            )
        return PageLayout.section(id: "failed-jobs", title: "Failed jobs", content: content)
    }

    static func row(_ job: JobInfo, now: Date) -> HTML {
        // A missed or interrupted job may have no finish time (or no start): show the latest it has.
        let finished = job.finishedAt ?? job.startedAt ?? job.queuedAt
        let state: HTML = job.state == "failed" ? .empty : "<span class=\"tag\">\(job.state)</span> "
        return """
        <tr data-job="\(job.id)">
        <td>\(job.hostName)</td><td>\(job.vmName)</td><td>\(job.policy)</td>
        <td><span title="\(Format.time(finished))">\(Format.age(of: finished, now: now))</span></td>
        <td class="error">\(state)\(job.error ?? "no error text")</td>
        <td class="num">\(Format.bytes(job.bytesRead))</td>
        </tr>
        """
    }
}
