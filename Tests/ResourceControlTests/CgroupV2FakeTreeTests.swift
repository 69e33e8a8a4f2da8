import Foundation
import ResourceControl
import Testing

/// cgroup v2 detection and file writing against a fake tree (this lab's hosts run v1): which files
/// get which values, in which group, and what happens when a place cannot be used.
@Suite("cgroup v2 on a fake tree")
struct CgroupV2FakeTreeTests {
    let pid: Int32 = 4242
    let cgroups: TemporaryTree
    let proc: TemporaryTree

    init() throws {
        cgroups = try TemporaryTree()
        proc = try TemporaryTree()
        try cgroups.file("cgroup.controllers", "cpuset cpu io memory pids\n")
        try cgroups.file("cgroup.subtree_control", "memory\n")
        try cgroups.file("cgroup.procs")
    }

    func attach(current: String) throws -> CPUControl {
        try proc.file("\(pid)/cgroup", "0::\(current)\n")
        return CPUControl.attach(pid: pid, name: "agent", cgroupRoot: cgroups.root, procRoot: proc.root)
    }

    @Test("the group goes under the root: +cpu delegated, the pid moved, no cap and weight 100 to start")
    func attachUnderRoot() throws {
        try cgroups.v2Group("agent")
        let control = try attach(current: "/")
        #expect(control.mode == .cgroupV2(path: cgroups.root + "/agent"))
        #expect(control.fallbackReason == nil)
        #expect(cgroups.read("cgroup.subtree_control") == "+cpu")
        #expect(cgroups.read("agent/cgroup.procs") == "4242")
        #expect(cgroups.read("agent/cpu.max") == "max 100000")
        #expect(cgroups.read("agent/cpu.weight") == "100")
    }

    @Test("apply writes cpu.max and cpu.weight and says what it wrote; it can be applied again")
    func applyLimits() throws {
        try cgroups.v2Group("agent")
        let control = try attach(current: "/")
        let words = control.apply(CPULimits(quotaPercentOfOneCore: 50, weight: 20))
        #expect(words == "cgroup v2 \(cgroups.root)/agent: cap 50% of a core (cpu.max 50000 100000), weight 20")
        #expect(cgroups.read("agent/cpu.max") == "50000 100000")
        #expect(cgroups.read("agent/cpu.weight") == "20")
        control.apply(CPULimits())
        #expect(cgroups.read("agent/cpu.max") == "max 100000")
        #expect(control.description.hasSuffix("no cap (cpu.max max 100000), weight 100"))
    }

    @Test("a parent that already delegates cpu is left alone")
    func alreadyDelegated() throws {
        try cgroups.file("cgroup.subtree_control", "cpu memory\n")
        try cgroups.v2Group("agent")
        _ = try attach(current: "/")
        #expect(cgroups.read("cgroup.subtree_control") == "cpu memory\n")
    }

    @Test("when the root cannot take the group, it goes under the process's own group, and the failed try leaves nothing")
    func fallsBackUnderCurrentGroup() throws {
        // No agent/ under the root: mkdir makes a plain folder without cpu.max, as an unusable place would.
        try cgroups.v2Group("user.slice")
        try cgroups.v2Group("user.slice/agent.scope")
        try cgroups.v2Group("user.slice/agent.scope/agent")
        let control = try attach(current: "/user.slice/agent.scope")
        #expect(control.mode == .cgroupV2(path: cgroups.root + "/user.slice/agent.scope/agent"))
        #expect(!cgroups.exists("agent"), "the failed group under the root was removed")
        #expect(cgroups.read("user.slice/cgroup.subtree_control") == "+cpu")
        #expect(cgroups.read("user.slice/agent.scope/cgroup.subtree_control") == "+cpu")
        #expect(cgroups.read("user.slice/agent.scope/agent/cgroup.procs") == "4242")
    }

    @Test("a failed write reports the path and the kernel's words, and keeps the earlier limits")
    func failedWrite() throws {
        try cgroups.v2Group("agent")
        let control = try attach(current: "/")
        try FileManager.default.removeItem(atPath: cgroups.root + "/agent/cpu.max")
        let words = control.apply(CPULimits(quotaPercentOfOneCore: 30))
        #expect(control.lastError?.path == cgroups.root + "/agent/cpu.max")
        #expect(control.lastError?.errno == ENOENT)
        #expect(words.hasSuffix("could not apply cap 30% of a core, weight 100: write 30000 100000 to \(cgroups.root)/agent/cpu.max: No such file or directory"))
        #expect(control.description.contains("no cap"), "the description still shows what is in force")
    }

    @Test("detach moves the process back to its group and removes the group")
    func detach() throws {
        try cgroups.v2Group("agent")
        let control = try attach(current: "/")
        try cgroups.clearFiles(in: "agent")
        let words = control.detach()
        #expect(cgroups.read("cgroup.procs") == "4242")
        #expect(!cgroups.exists("agent"))
        #expect(words == "moved back to \(cgroups.root), removed \(cgroups.root)/agent")
        #expect(control.apply(CPULimits(quotaPercentOfOneCore: 10)).hasPrefix("detached"))
    }
}
