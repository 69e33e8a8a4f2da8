import FleetAPI
import Foundation

/// `#store-usage`: one card per store and host with the latest sample (stored and logical
/// bytes, points) and the stored bytes over time, so growth that will fill a store shows
/// before it does.
enum StoreUsageSection {
    static func render(_ stores: [StoreUsageInfo], now: Date) -> HTML {
        let content = stores.isEmpty
            ? PageLayout.emptyState("No store usage reported")
            : "<div class=\"stores\">\(stores.map { card($0, now: now) }.joined(separator: "\n"))</div>"
        return PageLayout.section(id: "store-usage", title: "Store usage", content: content)
    }

    static func card(_ store: StoreUsageInfo, now: Date) -> HTML {
        let heading: HTML = "<h3>\(store.store) <span class=\"muted\">on \(store.hostName)</span></h3>"
        guard let latest = store.samples.last else {
            return "<div class=\"store\">\(heading)\(PageLayout.emptyState("No samples"))</div>"
        }
        let chart = LineChart(
            points: store.samples.map { LineChart.Point(at: $0.at, value: Double($0.storedBytes)) },
            description: "Stored bytes of \(store.store) on \(store.hostName) over time"
        )
        return """
        <div class="store" data-store="\(store.store)">
        \(heading)
        <dl>
        <dt>Stored</dt><dd class="stored">\(Format.bytes(latest.storedBytes))</dd>
        <dt>Logical</dt><dd class="logical">\(Format.bytes(latest.logicalBytes))</dd>
        <dt>Points</dt><dd class="points">\(latest.points)</dd>
        <dt>Reported</dt><dd>\(PageLayout.age(latest.at, now: now))</dd>
        </dl>
        \(chart.render())
        </div>
        """
    }
}
