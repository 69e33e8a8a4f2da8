import Foundation
import StorageAdapter

/// Running write sessions and the maintenance lock, as every host sharing the store sees them.
extension Store {
    static let sessionsPrefix = "sessions/"
    static let maintenanceLockKey = "locks/maintenance.json"

    /// The write sessions whose holders are alive; dead holders' objects are listed apart so
    /// GC can remove them.
    func sessionLeases() throws -> (alive: [LeaseHolder], dead: [String]) {
        let listed = try io(Self.sessionsPrefix) { try adapter.list(prefix: Self.sessionsPrefix) }
        var alive: [LeaseHolder] = [], dead: [String] = []
        for object in listed where object.key.hasSuffix(".json") {
            guard let data = try? adapter.get(object.key) else { continue }  // released meanwhile
            guard let holder = try? StoreJSON.decode(LeaseHolder.self, from: data) else {
                dead.append(object.key)
                continue
            }
            if holder.isAlive(modified: object.modified) { alive.append(holder) } else { dead.append(object.key) }
        }
        return (alive, dead)
    }

    /// Registers a write session; it must be held before the session decides anything about
    /// which chunks exist (see `GarbageCollector`).
    func registerSession() throws -> HeldLease {
        let id = UUID().uuidString.lowercased()
        guard let lease = try HeldLease.take(
            key: Self.sessionsPrefix + id + ".json", adapter: adapter, purpose: "backup", exclusive: false)
        else { throw StoreError.locked("cannot register write session \(id)") }
        return lease
    }

    /// Takes the store's maintenance lock (GC and repair run one at a time across all hosts).
    /// A lock left by a dead holder is broken; a live one is reported.
    func takeMaintenanceLock(purpose: String) throws -> HeldLease {
        let key = Self.maintenanceLockKey
        for _ in 0..<3 {
            if let lease = try HeldLease.take(key: key, adapter: adapter, purpose: purpose, exclusive: true) {
                return lease
            }
            guard let data = try? adapter.get(key), let info = try? adapter.stat(key) else { continue }
            if let holder = try? StoreJSON.decode(LeaseHolder.self, from: data),
               holder.isAlive(modified: info.modified) {
                throw StoreError.locked("\(holder.summary) holds the store's maintenance lock")
            }
            // Dead holder: break the lock, unless someone replaced it meanwhile.
            if (try? adapter.get(key)) == data { try io(key) { try adapter.delete(key) } }
        }
        throw StoreError.locked("could not take the store's maintenance lock")
    }
}
