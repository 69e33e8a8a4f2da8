import Foundation
import GRDB
import VBackupModel

/// Points in the catalog: one row per manifest object, with the manifest JSON as stored.
extension Catalog {
    func pointKeys() throws -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT key FROM point")) }
    }

    func insertPoint(key: String, manifest: PointManifest, json: Data) throws {
        try write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO point (key, id, vmUUID, vmName, createdAt, manifest)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    key, manifest.id, manifest.vmUUID, manifest.vmName,
                    manifest.createdAt.timeIntervalSince1970, String(decoding: json, as: UTF8.self),
                ])
        }
    }

    func deletePoints(keys: some Collection<String>) throws {
        guard !keys.isEmpty else { return }
        try write { db in
            for key in keys {
                try db.execute(sql: "DELETE FROM point WHERE key = ?", arguments: [key])
            }
        }
    }

    func forgetPoints() throws {
        try write { db in try db.execute(sql: "DELETE FROM point") }
    }

    /// Manifests (JSON) of points whose VM name or UUID is `vm` (all when nil), oldest first.
    func pointManifests(vm: String?) throws -> [String] {
        try read { db in
            if let vm {
                return try String.fetchAll(
                    db, sql: "SELECT manifest FROM point WHERE vmUUID = ? OR vmName = ? ORDER BY createdAt, id",
                    arguments: [vm, vm])
            }
            return try String.fetchAll(db, sql: "SELECT manifest FROM point ORDER BY createdAt, id")
        }
    }

    func pointManifest(id: String) throws -> String? {
        try read { db in
            try String.fetchOne(db, sql: "SELECT manifest FROM point WHERE id = ?", arguments: [id])
        }
    }

    func latestPointManifest(vmUUID: String) throws -> String? {
        try read { db in
            try String.fetchOne(
                db, sql: "SELECT manifest FROM point WHERE vmUUID = ? ORDER BY createdAt DESC, id DESC LIMIT 1",
                arguments: [vmUUID])
        }
    }
}
