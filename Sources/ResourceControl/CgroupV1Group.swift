/// cgroup v1 (this lab's hosts): the process in `<cpu mount>/<name>`, capped with
/// `cpu.cfs_quota_us` / `cpu.cfs_period_us` and weighted with `cpu.shares`; and, when the blkio
/// controller is mounted, in `<blkio mount>/<name>` with a low I/O weight.
struct CgroupV1Group: CPUMechanism {
    let cpu: GroupMove
    let blkio: BlkioWeight?

    var mode: CPUControl.Mode { .cgroupV1(path: cpu.group) }

    static func attach(pid: Int32, name: String, cpu: CgroupHierarchy.Placement, blkio: CgroupHierarchy.Placement?) throws(ControlFileError) -> CgroupV1Group {
        // Defaults go in before the move, so a group left over from an earlier run cannot hold the
        // process to that run's cap even for a moment.
        let move = try GroupMove.enter(pid: pid, group: cpu.mount + "/" + name, origin: cpu.currentPath) { group throws(ControlFileError) in
            try write(CPULimits(), to: group)
        }
        return CgroupV1Group(cpu: move, blkio: blkio.map { BlkioWeight.attach(pid: pid, name: name, placement: $0) })
    }

    func apply(_ limits: CPULimits) throws(ControlFileError) -> String {
        try Self.write(limits, to: cpu.group)
        let quota = limits.quotaMicroseconds.map { "cfs_quota_us \($0) / period \(CPULimits.periodMicroseconds)" } ?? "cfs_quota_us -1"
        let io = blkio.map { "; \($0.words)" } ?? ""
        return "cgroup v1 \(cpu.group): \(limits.capInWords) (\(quota)), shares \(limits.shares)\(io)"
    }

    func detach() -> String {
        let io = blkio.map { "; blkio: \($0.detach())" } ?? ""
        return "cpu: \(cpu.leave())\(io)"
    }

    /// The period first: the kernel checks a new quota against the period in force.
    private static func write(_ limits: CPULimits, to group: String) throws(ControlFileError) {
        try ControlFile.write("\(CPULimits.periodMicroseconds)", to: group + "/cpu.cfs_period_us")
        try ControlFile.write("\(limits.quotaMicroseconds ?? -1)", to: group + "/cpu.cfs_quota_us")
        try ControlFile.write("\(limits.shares)", to: group + "/cpu.shares")
    }
}

/// The v1 blkio part: the agent's reads get a fifth of the default proportional I/O weight, so
/// guests' I/O wins when the disk is contended. Only a proportional scheduler honours the weight
/// (BFQ; CFQ on kernels before 5.0), so the words say whether any disk uses one.
struct BlkioWeight: Sendable {
    enum State: Sendable {
        case placed(GroupMove, file: String, weight: Int, honouredBy: [String])
        case failed(ControlFileError)
    }

    let state: State

    /// `blkio.weight` (CFQ: 10...1000, default 500) gets 100; `blkio.bfq.weight` (BFQ: 1...1000,
    /// default 100) gets 20. Failure is reported, never fatal: the CPU group works without it.
    static func attach(pid: Int32, name: String, placement: CgroupHierarchy.Placement, sysBlock: String = "/sys/block") -> BlkioWeight {
        var chosen = (file: "blkio.bfq.weight", weight: 20)
        do throws(ControlFileError) {
            let move = try GroupMove.enter(pid: pid, group: placement.mount + "/" + name, origin: placement.currentPath) { group throws(ControlFileError) in
                if ControlFile.exists(group + "/blkio.weight") { chosen = ("blkio.weight", 100) }
                try ControlFile.write("\(chosen.weight)", to: group + "/" + chosen.file)
            }
            return BlkioWeight(state: .placed(move, file: chosen.file, weight: chosen.weight, honouredBy: proportionalDisks(sysBlock)))
        } catch {
            return BlkioWeight(state: .failed(error))
        }
    }

    var words: String {
        switch state {
        case .placed(let move, let file, let weight, let disks):
            let effect = disks.isEmpty
                ? "no effect: no disk uses the bfq or cfq scheduler"
                : "in effect on \(disks.joined(separator: ", "))"
            return "blkio \(move.group) \(file) \(weight) (\(effect))"
        case .failed(let error):
            return "blkio weight not set: \(error)"
        }
    }

    func detach() -> String {
        guard case .placed(let move, _, _, _) = state else { return "nothing to undo" }
        return move.leave()
    }

    /// Disks whose active scheduler (the bracketed one in queue/scheduler) honours blkio weights.
    static func proportionalDisks(_ sysBlock: String) -> [String] {
        ControlFile.entries(sysBlock).sorted().filter { disk in
            let schedulers = (try? ControlFile.read("\(sysBlock)/\(disk)/queue/scheduler")) ?? ""
            return schedulers.contains("[bfq]") || schedulers.contains("[cfq]")
        }
    }
}
