import Foundation

/// Which cgroup layout a host has, and where a process sits in it, read from the cgroup root and
/// from procfs. Pure parsing apart from the reads in `detect`, so the rules are unit-tested on text.
enum CgroupHierarchy: Equatable {
    /// cgroup v2: one tree at `root`; the process is at `current` ("/" or "/user.slice/...").
    case unified(root: String, current: String)
    /// cgroup v1: one tree per controller; where the cpu (and, if mounted, blkio) trees are and
    /// where the process sits in each.
    case legacy(cpu: Placement, blkio: Placement?)
    /// Neither can be used; the reason, for the operator.
    case unavailable(String)

    /// A controller tree's mount point and the process's group in it, relative to the mount.
    struct Placement: Equatable {
        var mount: String
        var current: String

        /// The absolute path of the process's current group.
        var currentPath: String { current == "/" ? mount : mount + current }
    }

    /// v2 if `<root>/cgroup.controllers` exists (a v2 mount at the root; a hybrid host's empty
    /// `unified` subtree does not count), else v1 if a cpu controller tree is mounted under the root.
    static func detect(cgroupRoot root: String, procRoot: String, pid: Int32) -> CgroupHierarchy {
        let membership: String
        do {
            membership = try ControlFile.read("\(procRoot)/\(pid)/cgroup")
        } catch {
            return .unavailable("cannot tell the process's cgroup: \(error)")
        }
        if ControlFile.exists(root + "/cgroup.controllers") {
            return .unified(root: root, current: unifiedPath(membership) ?? "/")
        }
        let mounts = (try? ControlFile.read("\(procRoot)/\(pid)/mounts")) ?? ""
        guard let cpu = placement(of: "cpu", root: root, mounts: mounts, membership: membership) else {
            return .unavailable("no cgroup v2 at \(root) and no cgroup v1 cpu controller mounted under it")
        }
        return .legacy(cpu: cpu, blkio: placement(of: "blkio", root: root, mounts: mounts, membership: membership))
    }

    /// A v1 controller's mount (from the mount table, else `<root>/<controller>` if it looks like
    /// one) and the process's group in it.
    static func placement(of controller: String, root: String, mounts: String, membership: String) -> Placement? {
        let conventional = "\(root)/\(controller)"
        let mount = v1Mount(of: controller, under: root, mounts: mounts)
            ?? (ControlFile.exists(conventional + "/cgroup.procs") ? conventional : nil)
        guard let mount else { return nil }
        return Placement(mount: mount, current: v1Path(of: controller, membership) ?? "/")
    }

    /// The mount point of the v1 hierarchy holding `controller`, from /proc/PID/mounts lines such
    /// as `cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,cpu,cpuacct 0 0`.
    static func v1Mount(of controller: String, under root: String, mounts: String) -> String? {
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 4, fields[2] == "cgroup" else { continue }
            let point = fields[1].replacingOccurrences(of: "\\040", with: " ")
            guard point.hasPrefix(root + "/"), fields[3].split(separator: ",").contains(Substring(controller)) else { continue }
            return point
        }
        return nil
    }

    /// The v1 group path for `controller` from /proc/PID/cgroup lines such as `4:cpu,cpuacct:/machine`.
    static func v1Path(of controller: String, _ membership: String) -> String? {
        entries(membership).first { $0.controllers.contains(controller) }?.path
    }

    /// The v2 group path from the `0::/path` line.
    static func unifiedPath(_ membership: String) -> String? {
        entries(membership).first { $0.id == "0" && $0.controllers.isEmpty }?.path
    }

    private static func entries(_ membership: String) -> [(id: String, controllers: [String], path: String)] {
        membership.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { return nil }
            return (String(parts[0]), parts[1].split(separator: ",").map(String.init), String(parts[2]))
        }
    }
}
