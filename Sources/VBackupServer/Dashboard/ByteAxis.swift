import Foundation

/// A chart's vertical axis for byte counts: a top a little above the largest value with
/// three to five ticks at round numbers of one binary unit (0, 250, 500, 750 MiB; 0, 1, 2,
/// 3, 4 GiB), so the labels read like the tables.
struct ByteAxis: Equatable {
    /// Bytes at the top of the plot; never zero, so dividing by it is safe.
    var top: Double
    var ticks: [Double]

    init(maximum: Double, targetTicks: Int = 4) {
        guard maximum > 0 else {
            top = 1
            ticks = [0]
            return
        }
        let (value, unit) = Format.scaled(maximum)
        let unitSize = pow(1024, Double(unit))
        let rough = value / Double(targetTicks)
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        var step = [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        if unit == 0 { step = max(step.rounded(.up), 1) }  // no fractions of a byte
        let stepBytes = step * unitSize
        top = (maximum / stepBytes).rounded(.up) * stepBytes
        ticks = stride(from: 0, through: top * 1.000001, by: stepBytes).map { $0 }
    }

    /// The label of a tick.
    static func label(_ bytes: Double) -> String {
        Format.bytes(Int64(bytes.rounded()))
    }

    /// Distance from the plot's bottom for a value, in a plot `height` high.
    func offset(_ value: Double, height: Double) -> Double {
        max(0, value) / top * height
    }
}
