/// Bytes per second over the last ~2 s, from 100 ms slots in a ring.
///
/// A sliding window rather than an exponential average: "bytes in the last two seconds / two
/// seconds" is what an operator reading the number expects, and it drops to 0 two seconds after a
/// job stops instead of decaying forever.
struct RateMeter: Sendable {
    static let slotNanoseconds: UInt64 = 100_000_000
    static let slotCount: UInt64 = 20

    private var slots = [UInt64](repeating: 0, count: Int(RateMeter.slotCount))
    /// Absolute number (time / slot length) of the newest slot written.
    private var newest: UInt64 = 0
    /// When the first bytes were counted; the window never reaches back before it.
    private var startedAt: UInt64?

    init() {}

    mutating func add(_ bytes: UInt64, at now: UInt64) {
        let slot = now / Self.slotNanoseconds
        if startedAt == nil { startedAt = now; newest = slot }
        if slot > newest {
            // Clear the slots skipped since the last write; at most the whole ring.
            for step in 0..<min(slot - newest, Self.slotCount) {
                slots[index(slot - step)] = 0
            }
            newest = slot
        }
        slots[index(min(slot, newest))] += bytes
    }

    /// The rate over the window ending `now`: the current partial slot and the 19 before it (or
    /// since the first bytes, if later). A window shorter than one slot counts as one slot, so the
    /// first read of a job does not show as an absurd rate.
    func rate(at now: UInt64) -> Double {
        guard let startedAt else { return 0 }
        let window = window(at: now)
        let start = max(startedAt, window.oldest * Self.slotNanoseconds)
        return Double(window.total) / Self.seconds(from: start, to: now)
    }

    /// The rate since traffic last started within the window, and for how long it has flowed:
    /// measured from the first slot with bytes in it, so a burst that began 300 ms ago after an
    /// hour of silence reads as its own speed, not as a tenth of it.
    func activeRate(at now: UInt64) -> (bytesPerSecond: Double, seconds: Double) {
        let window = window(at: now)
        guard let startedAt, let first = window.firstBusy else { return (0, 0) }
        let start = max(startedAt, first * Self.slotNanoseconds)
        let total = window.total
        let seconds = Double(now - min(now, start)) / 1e9
        return (Double(total) / Self.seconds(from: start, to: now), seconds)
    }

    private func window(at now: UInt64) -> (oldest: UInt64, total: UInt64, firstBusy: UInt64?) {
        let current = now / Self.slotNanoseconds
        let oldest = current >= Self.slotCount - 1 ? current - (Self.slotCount - 1) : 0
        var total: UInt64 = 0
        var firstBusy: UInt64?
        if newest >= oldest {
            for slot in oldest...min(current, newest) where slots[index(slot)] > 0 {
                total += slots[index(slot)]
                firstBusy = firstBusy ?? slot
            }
        }
        return (oldest, total, firstBusy)
    }

    private func index(_ slot: UInt64) -> Int { Int(slot % Self.slotCount) }

    private static func seconds(from start: UInt64, to now: UInt64) -> Double {
        max(Double(now - min(now, start)), Double(slotNanoseconds)) / 1e9
    }
}
