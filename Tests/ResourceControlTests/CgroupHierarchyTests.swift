@testable import ResourceControl
import Testing

/// Reading the cgroup layout from /proc text: which tree holds a controller, where a process sits.
@Suite("cgroup layout detection")
struct CgroupHierarchyTests {
    let mounts = """
        sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
        tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
        cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0
        cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0
        cgroup /sys/fs/cgroup/blkio cgroup rw,relatime,blkio 0 0
        cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
        """
    let membership = """
        12:blkio:/backup
        4:cpu,cpuacct:/machine/agent
        3:cpuset:/
        0::/
        """

    @Test("the cpu tree is found by controller name even when mounted together with cpuacct")
    func cpuMount() {
        #expect(CgroupHierarchy.v1Mount(of: "cpu", under: "/sys/fs/cgroup", mounts: mounts) == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(CgroupHierarchy.v1Mount(of: "blkio", under: "/sys/fs/cgroup", mounts: mounts) == "/sys/fs/cgroup/blkio")
        #expect(CgroupHierarchy.v1Mount(of: "memory", under: "/sys/fs/cgroup", mounts: mounts) == nil)
    }

    @Test("a v1 mount outside the given root does not count (tests point the root elsewhere)")
    func mountOutsideRoot() {
        #expect(CgroupHierarchy.v1Mount(of: "cpu", under: "/tmp/fake", mounts: mounts) == nil)
    }

    @Test("the process's group per controller comes from /proc/PID/cgroup")
    func membershipPaths() {
        #expect(CgroupHierarchy.v1Path(of: "cpu", membership) == "/machine/agent")
        #expect(CgroupHierarchy.v1Path(of: "cpuacct", membership) == "/machine/agent")
        #expect(CgroupHierarchy.v1Path(of: "blkio", membership) == "/backup")
        #expect(CgroupHierarchy.v1Path(of: "cpuset", membership) == "/")
        #expect(CgroupHierarchy.unifiedPath(membership) == "/")
        #expect(CgroupHierarchy.unifiedPath("0::/user.slice/agent.scope\n") == "/user.slice/agent.scope")
    }

    @Test("a v1 placement's current group is the mount plus the membership path")
    func placementPath() {
        let placement = CgroupHierarchy.placement(of: "cpu", root: "/sys/fs/cgroup", mounts: mounts, membership: membership)
        #expect(placement?.currentPath == "/sys/fs/cgroup/cpu,cpuacct/machine/agent")
        let atRoot = CgroupHierarchy.Placement(mount: "/sys/fs/cgroup/cpu", current: "/")
        #expect(atRoot.currentPath == "/sys/fs/cgroup/cpu")
    }

    @Test("cgroup v2 puts the group under the root first, then under the process's own group")
    func v2Candidates() {
        #expect(CgroupV2Group.candidateParents(current: "/") == ["/"])
        #expect(CgroupV2Group.candidateParents(current: "/user.slice/agent.scope") == ["/", "/user.slice/agent.scope"])
    }
}
