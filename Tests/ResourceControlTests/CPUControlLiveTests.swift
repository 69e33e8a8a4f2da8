import Foundation
@testable import ResourceControl
import Testing

/// CPUControl on this machine's real kernel: cgroup v1 here (see LAB-NOTES "Resource control").
/// Needs root to create groups; skipped, with that reason, otherwise.
@Suite("CPU control on this host", .serialized, .enabled(if: getuid() == 0, "creating cgroups needs root"))
struct CPUControlLiveTests {
    let root = "/sys/fs/cgroup"

    @Test("a busy loop capped at 30% of a core uses 20–40% of one; the cap can be changed at run time",
          .enabled(if: FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), "no cgroup v1 cpu controller on this host"))
    func capBusyLoop() throws {
        let loop = try ChildProcess("while :; do :; done")
        let name = "vbackup-test-\(loop.pid)"
        let group = "\(root)/cpu/\(name)"
        let control = CPUControl.attach(pid: loop.pid, name: name)
        #expect(control.mode == .cgroupV1(path: group))
        #expect(loop.cgroupLine("cpu")?.hasSuffix(":/\(name)") == true)

        // The top weight, so other work on a busy host cannot starve the loop below its cap: this
        // measures the cap, not the competition.
        let words = control.apply(CPULimits(quotaPercentOfOneCore: 30, weight: 10_000))
        #expect(words.hasPrefix("cgroup v1 \(group): cap 30% of a core (cfs_quota_us 30000 / period 100000), shares 102400"))
        let used = loop.cpuPercent(over: 3)
        print("busy loop capped at 30%: used \(used.formatted(maxFractionDigits: 1))% of a core over 3 s")
        #expect(used >= 20 && used <= 40, "used \(used)% of a core")

        control.apply(CPULimits(quotaPercentOfOneCore: 60))
        #expect(try ControlFile.read(group + "/cpu.cfs_quota_us") == "60000\n")
        control.apply(CPULimits())
        #expect(try ControlFile.read(group + "/cpu.cfs_quota_us") == "-1\n")
        #expect(try ControlFile.read(group + "/cpu.shares") == "1024\n")

        control.detach()
        #expect(loop.cgroupLine("cpu")?.hasSuffix(":/") == true, "back in the group it came from")
        #expect(!FileManager.default.fileExists(atPath: group), "the group is removed")
    }

    @Test("with a blkio controller the process also gets a low I/O weight, and the words say whether any disk honours it",
          .enabled(if: FileManager.default.fileExists(atPath: "/sys/fs/cgroup/blkio/cgroup.procs"), "no cgroup v1 blkio controller on this host"))
    func blkioWeight() throws {
        let sleeper = try ChildProcess("exec sleep 30")
        let name = "vbackup-test-\(sleeper.pid)"
        let control = CPUControl.attach(pid: sleeper.pid, name: name)
        #expect(sleeper.cgroupLine("blkio")?.hasSuffix(":/\(name)") == true)
        let weightFile = ["blkio.weight", "blkio.bfq.weight"].first { FileManager.default.fileExists(atPath: "\(root)/blkio/\(name)/\($0)") }
        #expect(weightFile != nil)
        let honoured = BlkioWeight.proportionalDisks("/sys/block")
        print("blkio: \(control.description)")
        #expect(control.description.contains(honoured.isEmpty ? "no effect" : "in effect on"))
        control.detach()
        #expect(sleeper.cgroupLine("blkio")?.hasSuffix(":/") == true)
        #expect(!FileManager.default.fileExists(atPath: "\(root)/blkio/\(name)"))
    }

    @Test("attach(name:) moves this whole process, every thread, and detach brings it back")
    func attachSelf() throws {
        let name = "vbackup-selftest-\(getpid())"
        let before = try ControlFile.read("/proc/self/cgroup")
        let control = CPUControl.attach(name: name)
        guard case .cgroupV1(let group) = control.mode else {
            Issue.record("expected cgroup v1 here, got \(control.mode): \(control.fallbackReason ?? "")")
            return
        }
        #expect(group.hasSuffix("/" + name))
        for thread in ControlFile.entries("/proc/self/task") {
            let membership = (try? ControlFile.read("/proc/self/task/\(thread)/cgroup")) ?? ""
            #expect(CgroupHierarchy.v1Path(of: "cpu", membership) == "/" + name, "thread \(thread)")
        }
        control.detach()
        #expect(try ControlFile.read("/proc/self/cgroup") == before)
        #expect(!FileManager.default.fileExists(atPath: group))
    }

    @Test("with no usable cgroup the process falls back to nice 10 and io best-effort 7, undone at detach")
    func niceFallback() throws {
        let sleeper = try ChildProcess("exec sleep 30")
        let empty = try TemporaryTree()
        let control = CPUControl.attach(pid: sleeper.pid, name: "unused", cgroupRoot: empty.root)
        #expect(control.mode == .nice(niceness: 10, ioClass: "best-effort 7"))
        #expect(control.fallbackReason?.contains("no cgroup v2 at \(empty.root)") == true)
        #expect(sleeper.nice == 10)
        let bestEffort7: Int32 = (2 << 13) | 7
        let ioPriority = ProcessPriority.ioPriority(thread: sleeper.pid)
        #expect(ioPriority == bestEffort7)
        let words = control.apply(CPULimits(quotaPercentOfOneCore: 50))
        print("fallback: \(words)")
        #expect(words.contains("nice 10, io best-effort 7 on 1 thread(s)"))
        #expect(words.hasSuffix("cap 50% of a core, weight 100 not applied (needs a cgroup)"))
        control.detach()
        #expect(sleeper.nice == 0)
    }
}
