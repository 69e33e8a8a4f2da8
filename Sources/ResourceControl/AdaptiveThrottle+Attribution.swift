extension AdaptiveThrottle {
    /// Updates at the slowest after which host pressure that has not eased is judged the host's own.
    static let attributionUpdates = 10
    static let hostSignals: Set<String> = ["cpu pressure", "io pressure"]

    /// Host pressure (PSI) is host-wide: a host whose VMs keep the CPUs saturated shows high
    /// pressure with or without a backup. If a signal stays over its slow (or pause) level through
    /// `attributionUpdates` updates with the backups paused or at their slowest, the backups are
    /// not its cause and holding them back longer only costs the backup window. Its lowest level
    /// over those updates becomes the host's own
    /// background, and from then on the backups are judged by the pressure they *add* to it
    /// (the VMs' disk latency still guards the workloads directly). The background is forgotten
    /// once the signal falls back under 0.75 × slow.
    mutating func attributeToHost(_ worst: Reading, _ readings: [Reading]) -> Decision? {
        guard Self.hostSignals.contains(worst.name) else { return nil }
        pausedUpdates += 1
        for reading in readings where Self.hostSignals.contains(reading.name) {
            pauseLows[reading.name] = min(pauseLows[reading.name] ?? .infinity, reading.value)
        }
        guard pausedUpdates >= Self.attributionUpdates, let low = pauseLows[worst.name] else { return nil }
        background[worst.name] = low
        let level = worst.value >= worst.thresholds.pause ? "pause \(worst.format(worst.thresholds.pause))" : "slow \(worst.format(worst.thresholds.slow))"
        return decide(Self.floor, .slowed, calm: 0,
                      "\(worst.name) stayed at or above \(level) (lowest \(worst.format(low))) "
                      + "through \(pausedUpdates) updates with the backups at their slowest: it is the host's own; "
                      + "judging the backups by the pressure they add to it")
    }

    /// Host signals with a known background count only what lies above it.
    mutating func discountingBackground(_ readings: [Reading]) -> [Reading] {
        readings.map { reading in
            guard let base = background[reading.name] else { return reading }
            if reading.value < Self.clearFraction * reading.thresholds.slow {
                background[reading.name] = nil
                return reading
            }
            var added = reading
            added.value = max(0, reading.value - base)
            added.name = "\(reading.name) added to the host's own \(reading.format(base))"
            return added
        }
    }
}
