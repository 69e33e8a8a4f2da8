import Glibc

/// Who may connect: the socket file is mode 0660, owned by the client user (QEMU runs as
/// `libvirt-qemu`) when that user exists, so only that user and root reach the exported disks.
/// Its directory must let that user through: a directory of ours that nobody but us may enter
/// is given to the user's group with search (not read) permission; one we cannot safely change
/// is refused with a clear error rather than leaving QEMU to fail later with EACCES.
enum SocketAccess {
    static func restrict(_ path: String, owner: String?) throws(NBDServerError) {
        try systemCall("chmod 0660 \(path)") { chmod(path, 0o660) }
        guard let owner, let user = lookUp(owner) else { return }
        try systemCall("chown \(path) to \(owner)") { chown(path, user.uid, gid_t.max) }
        try letThrough(directory: parent(of: path), user: user, name: owner)
    }

    private static func letThrough(directory: String, user: (uid: uid_t, gid: gid_t), name: String) throws(NBDServerError) {
        var info = stat()
        try systemCall("stat \(directory)") { stat(directory, &info) }
        let mode = info.st_mode
        let canSearch = (info.st_uid == user.uid && mode & S_IXUSR != 0)
            || (info.st_gid == user.gid && mode & S_IXGRP != 0)
            || mode & S_IXOTH != 0
        if canSearch { return }
        guard info.st_uid == geteuid(), mode & S_IRWXG == 0 else {
            throw NBDServerError(operation: "\(name) cannot enter \(directory), where the NBD socket is", errno: EACCES)
        }
        try systemCall("chgrp \(directory)") { chown(directory, uid_t.max, user.gid) }
        try systemCall("chmod g+x \(directory)") { chmod(directory, (mode & 0o7777) | S_IXGRP) }
    }

    private static func lookUp(_ name: String) -> (uid: uid_t, gid: gid_t)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var scratch = [CChar](repeating: 0, count: 4096)
        guard getpwnam_r(name, &entry, &scratch, scratch.count, &result) == 0, result != nil else { return nil }
        return (entry.pw_uid, entry.pw_gid)
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let directory = String(path[..<slash])
        return directory.isEmpty ? "/" : directory
    }
}
