import Foundation

/// What stops a drill before anything is made (thrown by `DrillRunner.run`), and what fails one
/// VM's drill (caught and written into its result). Each description is one line.
public enum DrillError: Error, CustomStringConvertible {
    case noVMMatches([String])
    case emptyStore
    case unknownPoint(String)
    case pointOfOtherVM(point: String, vm: String)
    case pointNeedsOneVM(matched: [String])
    case scratchFolder(path: String, reason: String)
    case invalidDomainXML(String)
    case timedOut(seconds: Double, waitingFor: String)
    case cancelled
    case tool(String)

    public var description: String {
        switch self {
        case .noVMMatches(let patterns):
            return "no VM in the store matches \(patterns.map { "'\($0)'" }.joined(separator: ", "))"
        case .emptyStore: return "the store holds no restore point to drill"
        case .unknownPoint(let id): return "no restore point '\(id)' in the store"
        case .pointOfOtherVM(let point, let vm): return "point \(point) belongs to VM '\(vm)', which --vm does not select"
        case .pointNeedsOneVM(let matched):
            return "--point needs exactly one VM, but \(matched.count) match: \(matched.prefix(5).joined(separator: ", "))"
        case .scratchFolder(let path, let reason): return "cannot make the scratch folder \(path): \(reason)"
        case .invalidDomainXML(let reason): return "the point's domain XML cannot be read: \(reason)"
        case .timedOut(let seconds, let what): return "not healthy after \(Int(seconds)) s (timeout), waiting for \(what)"
        case .cancelled: return "cancelled"
        case .tool(let message): return message
        }
    }
}
