/// An inline SVG bar chart of byte counts (the CSP allows no chart library, and SVG needs
/// none): one `rect.bar` per entry, its height proportional to the value against a
/// `ByteAxis`, a title on each bar that the browser shows on hover, and marked entries drawn
/// red with a dot above, so an entry whose value is zero is still visibly marked.
struct BarChart {
    struct Bar {
        var key: String
        /// Under the axis; nil leaves the slot unlabelled.
        var label: String?
        var value: Double
        var marked: Bool
        var title: String
    }

    var bars: [Bar]
    var width = 960.0
    var height = 260.0
    var description: String

    private let left = 70.0, right = 10.0, top = 14.0, bottom = 28.0

    func render() -> HTML {
        let axis = ByteAxis(maximum: bars.map(\.value).max() ?? 0)
        let plotHeight = height - top - bottom
        let slot = (width - left - right) / Double(max(bars.count, 1))
        let barWidth = max(1, slot * 0.7)
        let baseline = top + plotHeight
        let grid = axis.ticks.map { tick -> HTML in
            let y = baseline - axis.offset(tick, height: plotHeight)
            return """
            <line class="grid" x1="\(left)" x2="\(width - right)" y1="\(y)" y2="\(y)"/>\
            <text x="\(left - 6)" y="\(y + 4)" text-anchor="end">\(ByteAxis.label(tick))</text>
            """
        }
        let shapes = bars.enumerated().map { index, bar -> HTML in
            let barHeight = axis.offset(bar.value, height: plotHeight)
            let x = left + Double(index) * slot + (slot - barWidth) / 2
            let center = x + barWidth / 2
            let mark: HTML = bar.marked
                ? "<circle class=\"failed-mark\" cx=\"\(center)\" cy=\"\(baseline - barHeight - 6)\" r=\"3\"/>" : .empty
            let label: HTML = bar.label.map { text -> HTML in
                "<text x=\"\(center)\" y=\"\(baseline + 16)\" text-anchor=\"middle\">\(text)</text>"
            } ?? .empty
            return """
            <rect class="bar\(bar.marked ? " failed" : "")" data-key="\(bar.key)" data-value="\(Int64(bar.value))" \
            x="\(x)" y="\(baseline - barHeight)" width="\(barWidth)" height="\(barHeight)"><title>\(bar.title)</title></rect>\
            \(mark)\(label)
            """
        }
        return """
        <svg class="chart" viewBox="0 0 \(width) \(height)" role="img" aria-label="\(description)" xmlns="http://www.w3.org/2000/svg">
        \(grid.joined(separator: "\n"))
        <line class="grid" x1="\(left)" x2="\(width - right)" y1="\(baseline)" y2="\(baseline)"/>
        \(shapes.joined(separator: "\n"))
        </svg>
        """
    }
}
