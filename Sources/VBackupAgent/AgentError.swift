/// Why the agent cannot do something, as one line.
public enum AgentError: Error, CustomStringConvertible, Equatable {
    case journal(String)
    case notRunning(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .journal(let message): return "job journal: \(message)"
        case .notRunning(let message): return message
        case .invalidArgument(let message): return message
        }
    }
}
