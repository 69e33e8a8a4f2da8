/// cgroup v2: the process in `<root>/<name>`, or, where the root is not writable (a delegated
/// subtree, a container), in `<its current group>/<name>`; capped with `cpu.max` and weighted with
/// `cpu.weight`, after enabling the cpu controller for the group's parents.
///
/// Note the kernel's "no internal processes" rule: a group that holds processes cannot hand
/// controllers to its children, so the second place fails when the current group is not the root
/// and still holds other processes. The error then says so (EBUSY) and the agent falls back.
struct CgroupV2Group: CPUMechanism {
    let move: GroupMove

    var mode: CPUControl.Mode { .cgroupV2(path: move.group) }

    static func attach(pid: Int32, name: String, root: String, current: String) throws(ControlFileError) -> CgroupV2Group {
        var lastError: ControlFileError?
        for parent in candidateParents(current: current) {
            do throws(ControlFileError) {
                try enableCPU(from: root, down: parent)
                let group = root + (parent == "/" ? "" : parent) + "/" + name
                let move = try GroupMove.enter(pid: pid, group: group, origin: root + (current == "/" ? "" : current)) { group throws(ControlFileError) in
                    try write(CPULimits(), to: group)
                }
                return CgroupV2Group(move: move)
            } catch {
                lastError = error
            }
        }
        throw lastError!
    }

    /// Where the group may go, first choice first: under the root, then under the process's own
    /// group (relative paths, "/" = the root).
    static func candidateParents(current: String) -> [String] {
        current == "/" || current.isEmpty ? ["/"] : ["/", current]
    }

    /// Writes `+cpu` into `cgroup.subtree_control` of the root and every group down to `parent`,
    /// skipping those that already delegate cpu (a delegated subtree may not write its ancestors).
    static func enableCPU(from root: String, down parent: String) throws(ControlFileError) {
        var level = root
        let steps = parent.split(separator: "/").map(String.init)
        for next in [nil] + steps.map(Optional.some) {
            if let next { level += "/" + next }
            let control = level + "/cgroup.subtree_control"
            let enabled = try ControlFile.read(control).split(whereSeparator: \.isWhitespace)
            if !enabled.contains("cpu") {
                try ControlFile.write("+cpu", to: control)
            }
        }
    }

    func apply(_ limits: CPULimits) throws(ControlFileError) -> String {
        try Self.write(limits, to: move.group)
        return "cgroup v2 \(move.group): \(limits.capInWords) (cpu.max \(limits.cpuMax)), weight \(limits.effectiveWeight)"
    }

    func detach() -> String {
        move.leave()
    }

    private static func write(_ limits: CPULimits, to group: String) throws(ControlFileError) {
        try ControlFile.write(limits.cpuMax, to: group + "/cpu.max")
        try ControlFile.write("\(limits.effectiveWeight)", to: group + "/cpu.weight")
    }
}
