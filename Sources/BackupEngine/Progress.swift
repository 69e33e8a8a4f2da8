/// Where the engine reports progress: the CLI draws a bar on a terminal, scripts get nothing,
/// the agent (later) forwards it. Called from the reader thread.
public protocol ProgressSink: Sendable {
    func diskStarted(_ target: String, total: UInt64)
    func advanced(_ bytes: UInt64)
    func diskFinished(_ target: String)
    /// A one-line remark worth telling the operator (a fallback to full, a missing guest agent).
    func note(_ message: String)
}

/// Reports nothing.
public struct SilentProgress: ProgressSink {
    public init() {}
    public func diskStarted(_ target: String, total: UInt64) {}
    public func advanced(_ bytes: UInt64) {}
    public func diskFinished(_ target: String) {}
    public func note(_ message: String) {}
}
