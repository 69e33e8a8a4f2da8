extension AdaptiveThrottle {
    /// One signal that has both a value and thresholds, with the words to name it.
    struct Reading {
        var name: String
        var value: Double
        var unit: String
        var thresholds: Thresholds

        /// How far the value is toward a threshold, so the worst of several signals is named.
        func ratio(_ threshold: KeyPath<Thresholds, Double>) -> Double {
            let limit = thresholds[keyPath: threshold]
            return limit > 0 ? value / limit : .infinity
        }

        func format(_ number: Double) -> String {
            number.formatted(maxFractionDigits: 1) + unit
        }

        /// "io pressure 47%", "disk latency of VM web1 35 ms".
        var words: String { "\(name) \(format(value))" }
    }

    /// The signals that can be judged: measured this update and configured with thresholds.
    func readings(_ signals: Signals) -> [Reading] {
        var readings: [Reading] = []
        if let value = signals.cpuPressure, let thresholds = cpuPressure {
            readings.append(Reading(name: "cpu pressure", value: value, unit: "%", thresholds: thresholds))
        }
        if let value = signals.ioPressure, let thresholds = ioPressure {
            readings.append(Reading(name: "io pressure", value: value, unit: "%", thresholds: thresholds))
        }
        if let latency = signals.vmDiskLatency, let thresholds = vmDiskLatency {
            readings.append(Reading(name: "disk latency of VM \(latency.vm)", value: latency.milliseconds, unit: " ms", thresholds: thresholds))
        }
        return readings
    }
}

extension AdaptiveThrottle.Signals {
    /// The PSI signals the throttle uses: CPU "some" and I/O "some" (any task stalled, the earliest
    /// sign of contention; I/O "full" comes later and is for display).
    public init(pressure: PressureSample?, vmDiskLatency: AdaptiveThrottle.VMLatency? = nil) {
        self.init(cpuPressure: pressure?.cpuSome, ioPressure: pressure?.ioSome, vmDiskLatency: vmDiskLatency)
    }
}
