/// Progress of a long store operation (GC, verify): named phases, each with a total of steps.
/// The CLI draws it on a terminal; the agent will report it.
public protocol MaintenanceProgress: Sendable {
    func phase(_ name: String, total: Int)
    func advanced(by steps: Int)
}

/// Progress nobody watches.
public struct NoProgress: MaintenanceProgress {
    public init() {}
    public func phase(_ name: String, total: Int) {}
    public func advanced(by steps: Int) {}
}
