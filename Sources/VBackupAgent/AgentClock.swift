import Foundation

/// Where the agent reads wall-clock time for its calendars. Production uses the system clock;
/// tests use `ManualClock` to move a real agent through a night in seconds. Pacing (bandwidth,
/// the 1 s tick) always uses real monotonic time, so a test clock never speeds up I/O.
public protocol AgentClock: Sendable {
    var now: Date { get }
}

public struct SystemClock: AgentClock {
    public init() {}
    public var now: Date { Date() }
}

/// A clock that moves only when told to.
public final class ManualClock: AgentClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    public init(_ start: Date) { current = start }

    public var now: Date { lock.withLock { current } }

    public func advance(by seconds: TimeInterval) { lock.withLock { current += seconds } }

    public func set(_ date: Date) { lock.withLock { current = date } }
}
