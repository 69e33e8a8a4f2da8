/// Failures of a backup or restore that the operator can act on. Each description is one line.
public enum EngineError: Error, CustomStringConvertible {
    case unknownVM(String)
    case noDisks(vm: String)
    case missingTool(String)
    case unreadableImage(path: String, reason: String)
    case backupFailed(vm: String, reason: String)
    case restoreTargetExists(String)
    case invalidArgument(String)
    case cancelled
    case noPoint(vm: String)
    case damagedPoint(point: String, ranges: [DamagedRange])

    public var description: String {
        switch self {
        case .unknownVM(let name): return "no VM named '\(name)' on this host"
        case .noDisks(let vm): return "VM '\(vm)' has no disk that can be backed up"
        case .missingTool(let tool): return "\(tool) is not installed (install qemu-utils)"
        case .unreadableImage(let path, let reason): return "cannot inspect disk image \(path): \(reason)"
        case .backupFailed(let vm, let reason): return "backup of '\(vm)' failed: \(reason)"
        case .restoreTargetExists(let path): return "\(path) already exists (use --overwrite to replace it)"
        case .invalidArgument(let message): return message
        case .cancelled: return "cancelled"
        case .noPoint(let vm): return "no restore point for VM '\(vm)' in this store"
        case .damagedPoint(let point, let ranges):
            let shown = ranges.prefix(4).map(\.description).joined(separator: ", ")
            let more = ranges.count > 4 ? " and \(ranges.count - 4) more" : ""
            return "point \(point) is damaged: \(ranges.count) chunk range(s) lost: \(shown)\(more); "
                + "restore with --allow-damaged to write what is intact"
        }
    }
}
