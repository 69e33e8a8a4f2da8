import Foundation

extension Policy {
    /// How old a VM's last point may be before the VM is overdue: the longest stretch between
    /// two consecutive starts of this policy's schedules (all of them merged, so a weekly full
    /// beside a nightly incremental does not lengthen it), plus the window of the schedule that
    /// ends the stretch (its point may arrive any time inside that window).
    ///
    /// Measured over the fire times in the `horizon` after `date` (by default 35 days, so weekly
    /// and monthly calendars show their real gaps), at most `limit` per schedule. Nil for a
    /// policy without schedules, or whose schedules fire fewer than twice in the horizon: there
    /// is no rhythm to be late against.
    public func maximumPointAge(from date: Date, horizon: TimeInterval = 35 * 86_400, limit: Int = 3_000) -> TimeInterval? {
        let end = date.addingTimeInterval(horizon)
        var fires: [(at: Date, window: TimeInterval)] = []
        for schedule in schedules {
            var from = date
            var count = 0
            while count < limit, let next = schedule.next(after: from), next <= end {
                fires.append((next, schedule.window))
                from = next
                count += 1
            }
        }
        fires.sort { ($0.at, $1.window) < ($1.at, $0.window) }
        guard fires.count >= 2 else { return nil }
        var longest: TimeInterval = 0
        for (previous, next) in zip(fires, fires.dropFirst()) where next.at > previous.at {
            longest = max(longest, next.at.timeIntervalSince(previous.at) + next.window)
        }
        return longest > 0 ? longest : nil
    }
}
