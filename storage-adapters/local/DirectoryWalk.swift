import Foundation
import StorageAdapter

extension FileOps {
    /// Visits every regular file under `root/relative` as an object, skipping in-flight
    /// `.tmp-` files. Entries that vanish during the walk (a concurrent delete or rename) are
    /// skipped, since a listing is only ever a snapshot.
    static func walk(root: String, relative: String, visit: (ObjectInfo) -> Void) throws {
        let directory = relative.isEmpty ? root : root + "/" + relative
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            if !FileManager.default.fileExists(atPath: directory) { return }
            throw StorageError.io(key: relative, message: "list: \(error.localizedDescription)")
        }
        for name in names where !name.hasPrefix(StorageKey.reservedPrefix) {
            let key = relative.isEmpty ? name : relative + "/" + name
            var st = stat()
            guard lstat(root + "/" + key, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                try walk(root: root, relative: key, visit: visit)
            case S_IFREG:
                if let info = try info(path: root + "/" + key, key: key) { visit(info) }
            default:
                continue
            }
        }
    }
}
