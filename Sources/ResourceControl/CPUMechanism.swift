#if canImport(Glibc)
import Glibc
#endif

/// One way of holding the agent's CPU use down; `CPUControl` uses the first that can be set up:
/// a cgroup v2 group, a cgroup v1 group, or nice/ionice.
protocol CPUMechanism: Sendable {
    var mode: CPUControl.Mode { get }
    /// Puts `limits` in force; returns what is now in force, in words.
    func apply(_ limits: CPULimits) throws(ControlFileError) -> String
    /// Undoes the attach as far as possible; returns what was done, failures included, in words.
    func detach() -> String
}

/// A process moved into a group it should leave again at detach.
struct GroupMove: Sendable, Equatable {
    let pid: Int32
    /// The group created for the process.
    let group: String
    /// The group it came from.
    let origin: String

    /// Creates `group` and moves the process in; removes the group again if the move fails, so a
    /// failed attach leaves nothing behind.
    static func enter(pid: Int32, group: String, origin: String, prepare: (String) throws(ControlFileError) -> Void) throws(ControlFileError) -> GroupMove {
        try ControlFile.makeDirectory(group)
        do throws(ControlFileError) {
            try prepare(group)
            try ControlFile.write("\(pid)", to: group + "/cgroup.procs")
        } catch {
            try? ControlFile.removeDirectory(group)
            throw error
        }
        return GroupMove(pid: pid, group: group, origin: origin)
    }

    /// Moves the process back and removes the group. A process that already exited (ESRCH) needs
    /// no moving; a group still holding other processes (children started meanwhile) stays, and
    /// the words say so.
    func leave() -> String {
        var notes: [String] = []
        do throws(ControlFileError) {
            try ControlFile.write("\(pid)", to: origin + "/cgroup.procs")
            notes.append("moved back to \(origin)")
        } catch where error.errno == ESRCH {
            notes.append("process gone")
        } catch {
            notes.append("could not move back: \(error)")
        }
        do {
            try ControlFile.removeDirectory(group)
            notes.append("removed \(group)")
        } catch {
            notes.append("could not remove the group: \(error)")
        }
        return notes.joined(separator: ", ")
    }
}
