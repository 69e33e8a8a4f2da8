/// Splitting one host-wide rate among jobs (max-min fairness, "water-filling").
///
/// An equal split alone wastes bandwidth: a job capped at 4 MiB/s beside an uncapped one under a
/// 20 MiB/s host limit would get 10 and use 4, leaving 6 unused. Water-filling hands what a capped
/// job cannot use to the others, so the example gives 4 and 16.
enum FairShare {
    /// Each job's rate in the order of `limits`: min(its own limit, its fair share of `capacity`).
    /// nil capacity = no host limit (each job gets its own limit); a nil rate = unlimited.
    static func split(capacity: Double?, limits: [Double?]) -> [Double?] {
        guard let capacity else { return limits }
        var rates = [Double?](repeating: nil, count: limits.count)
        // Fill the smallest limits first: each either fits in an equal share of what is left, or
        // it and every larger one get exactly that equal share.
        let order = limits.indices.sorted { (limits[$0] ?? .infinity) < (limits[$1] ?? .infinity) }
        var remaining = max(0, capacity)
        for (position, index) in order.enumerated() {
            let equalShare = remaining / Double(order.count - position)
            let rate = min(limits[index] ?? .infinity, equalShare)
            rates[index] = rate
            remaining -= rate
        }
        return rates
    }
}
