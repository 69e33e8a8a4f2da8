import Foundation

/// An inline SVG line chart of a byte count over time: time runs left to right from the
/// first sample to the last (dates under both ends), the value against a `ByteAxis`, a dot
/// on each sample. One sample is a single dot in the middle.
struct LineChart {
    struct Point {
        var at: Date
        var value: Double
    }

    var points: [Point]
    var width = 320.0
    var height = 140.0
    var description: String

    private let left = 56.0, right = 12.0, top = 10.0, bottom = 24.0

    func render() -> HTML {
        let axis = ByteAxis(maximum: points.map(\.value).max() ?? 0, targetTicks: 3)
        let plotHeight = height - top - bottom
        let plotWidth = width - left - right
        let baseline = top + plotHeight
        let start = points.first?.at ?? Date(timeIntervalSince1970: 0)
        let span = (points.last?.at ?? start).timeIntervalSince(start)
        let coordinates = points.map { point -> (x: Double, y: Double) in
            let x = span > 0 ? left + point.at.timeIntervalSince(start) / span * plotWidth : left + plotWidth / 2
            return (x, baseline - axis.offset(point.value, height: plotHeight))
        }
        let grid = axis.ticks.map { tick -> HTML in
            let y = baseline - axis.offset(tick, height: plotHeight)
            return """
            <line class="grid" x1="\(left)" x2="\(width - right)" y1="\(y)" y2="\(y)"/>\
            <text x="\(left - 6)" y="\(y + 4)" text-anchor="end">\(ByteAxis.label(tick))</text>
            """
        }
        let path = coordinates.map { "\(Format.decimal($0.x, digits: 1)),\(Format.decimal($0.y, digits: 1))" }.joined(separator: " ")
        let line: HTML = coordinates.count > 1 ? "<polyline class=\"line\" points=\"\(path)\"/>" : .empty
        let dots = zip(points, coordinates).map { point, c -> HTML in
            "<circle class=\"dot\" cx=\"\(c.x)\" cy=\"\(c.y)\" r=\"2.5\"><title>\(Format.time(point.at)): \(Format.bytes(Int64(point.value)))</title></circle>"
        }
        return """
        <svg class="chart" viewBox="0 0 \(width) \(height)" role="img" aria-label="\(description)" xmlns="http://www.w3.org/2000/svg">
        \(grid.joined(separator: "\n"))
        \(line)
        \(dots.joined(separator: "\n"))
        \(dateLabels(baseline: baseline, span: span))
        </svg>
        """
    }

    private func dateLabels(baseline: Double, span: TimeInterval) -> HTML {
        guard let first = points.first, let last = points.last else { return .empty }
        let y = baseline + 16
        if span <= 0 {
            return "<text x=\"\(left + (width - left - right) / 2)\" y=\"\(y)\" text-anchor=\"middle\">\(Format.monthDay(first.at))</text>"
        }
        return """
        <text x="\(left)" y="\(y)" text-anchor="start">\(Format.monthDay(first.at))</text>\
        <text x="\(width - right)" y="\(y)" text-anchor="end">\(Format.monthDay(last.at))</text>
        """
    }
}
