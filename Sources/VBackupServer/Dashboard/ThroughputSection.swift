import FleetAPI

/// `#throughput`: bytes read per night over the last 30 nights as bars, nights with a failed
/// job in red, so a slow night and a failing night stand out from the usual ones.
enum ThroughputSection {
    static func render(_ nights: [NightlyThroughput]) -> HTML {
        guard !nights.isEmpty else {
            return PageLayout.section(id: "throughput", title: "Nightly throughput",
                                      content: PageLayout.emptyState("No jobs in the last 30 nights"))
        }
        let total = nights.reduce(Int64(0)) { $0 + $1.bytesRead }
        let failedNights = nights.filter { $0.failedJobs > 0 }.count
        let note: HTML = "<span class=\"note\">\(Format.bytes(total)) read in \(nights.count) nights</span>"
        let legend: HTML = """
        <p class="legend"><span class="swatch" style="background: var(--accent)"></span>bytes read\
        <span class="swatch" style="background: var(--bad)"></span>night with failed jobs (\(failedNights))</p>
        """
        return PageLayout.section(id: "throughput", title: "Nightly throughput", note: note,
                                  content: "\(chart(nights).render())\n\(legend)")
    }

    /// About eight dates along the axis, always including the latest night.
    static func chart(_ nights: [NightlyThroughput]) -> BarChart {
        let every = max(1, (nights.count + 7) / 8)
        let bars = nights.enumerated().map { index, night in
            let labelled = (nights.count - 1 - index) % every == 0
            let failed = night.failedJobs > 0 ? ", \(night.failedJobs) failed" : ""
            return BarChart.Bar(
                key: night.night,
                label: labelled ? String(night.night.dropFirst(5)) : nil,
                value: Double(night.bytesRead),
                marked: night.failedJobs > 0,
                title: "\(night.night): \(Format.bytes(night.bytesRead)) read, \(Format.bytes(night.bytesStored)) stored, \(night.jobs) jobs\(failed)"
            )
        }
        return BarChart(bars: bars, description: "Bytes read per night, last \(nights.count) nights")
    }
}
