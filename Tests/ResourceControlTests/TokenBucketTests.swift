@testable import ResourceControl
import Testing

/// The bucket: 100 ms deep, large requests go into debt, rate changes apply from the moment made.
@Suite("Token bucket")
struct TokenBucketTests {
    let kib = 1024
    let mib = 1_048_576
    let second: UInt64 = 1_000_000_000
    let start: UInt64 = 1_000 * 1_000_000_000

    @Test("a new bucket is full: 100 ms of rate passes at once, the next request waits its time")
    func startsFull() {
        var bucket = TokenBucket(rate: Double(10 * mib), at: start)
        for _ in 0..<4 { #expect(bucket.take(256 * kib, at: start) == nil) }
        let wait = bucket.take(256 * kib, at: start)
        #expect(wait == 0.025, "256 KiB at 10 MiB/s is 25 ms")
    }

    @Test("an idle bucket saves at most 100 ms of rate, however long it idles")
    func shallowAfterIdle() {
        var bucket = TokenBucket(rate: Double(10 * mib), at: start)
        let later = start + 60 * second
        var passed = 0
        while bucket.take(256 * kib, at: later) == nil { passed += 1 }
        #expect(passed == 4, "1 MiB = 100 ms of 10 MiB/s, not a minute's worth")
    }

    @Test("a request larger than the bucket passes once the bucket is full and leaves a debt")
    func largeRequestDebt() {
        var bucket = TokenBucket(rate: Double(mib), at: start)
        #expect(bucket.take(4 * mib, at: start) == nil, "the bucket is full (100 KiB): the 4 MiB read passes")
        let wait = bucket.take(4 * mib, at: start)
        #expect(wait.map { abs($0 - 4.0) < 1e-9 } == true, "pay off 3.9 MiB of debt and refill 0.1 MiB: 4 s")
        #expect(bucket.take(4 * mib, at: start + 4 * second) == nil)
    }

    @Test("rate 0 means wait without end; unlimited means never wait")
    func pausedAndUnlimited() {
        var paused = TokenBucket(rate: 0, at: start)
        #expect(paused.take(kib, at: start + 10 * second) == .infinity)
        var unlimited = TokenBucket(rate: nil, at: start)
        #expect(unlimited.take(1 << 30, at: start) == nil)
    }

    @Test("a rate cut drops saved tokens to the new depth at once")
    func rateCutTrimsTokens() {
        var bucket = TokenBucket(rate: Double(10 * mib), at: start)
        bucket.setRate(Double(mib), at: start)
        #expect(bucket.tokens == Double(mib) * 0.1, "1 MiB saved at 10 MiB/s, only 100 KiB kept at 1 MiB/s")
        let tenth = mib / 10
        #expect(bucket.take(tenth, at: start) == nil)
        #expect(bucket.take(tenth, at: start).map { abs($0 - 0.1) < 1e-3 } == true, "the next 100 KiB takes 100 ms")
    }

    @Test("time before a rate change is credited at the old rate, time after at the new")
    func creditAtOldRate() {
        var bucket = TokenBucket(rate: Double(mib), at: start)
        _ = bucket.take(mib / 10, at: start)
        bucket.setRate(Double(2 * mib), at: start + 50_000_000)
        _ = bucket.take(0, at: start + 75_000_000)
        #expect(abs(bucket.tokens - Double(mib) * 0.1) < 2, "50 ms at 1 MiB/s, then 25 ms at 2 MiB/s")
    }

    @Test("a pause forfeits saved tokens, so resuming starts from an empty bucket, not a burst")
    func pauseEmptiesBucket() {
        var bucket = TokenBucket(rate: Double(mib), at: start)
        bucket.setRate(0, at: start)
        bucket.setRate(Double(mib), at: start + 60 * second)
        #expect(bucket.tokens == 0)
    }
}
