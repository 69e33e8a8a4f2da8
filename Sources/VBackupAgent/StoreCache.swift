import Foundation
import VBackupStore

/// One open store per location, shared by the agent's concurrent jobs: a store is opened
/// (and, if encrypted, unlocked) once, and every job's write session goes through the same
/// catalog, whose single writer serialises their index updates.
final class StoreCache: @unchecked Sendable {
    private let lock = NSLock()
    private var stores: [String: Store] = [:]
    private let open: StoreOpener

    init(open: @escaping StoreOpener) {
        self.open = open
    }

    func store(_ location: String?) throws -> Store {
        let key = location ?? ""
        return try lock.withLock {
            if let store = stores[key] { return store }
            let store = try open(location)
            stores[key] = store
            return store
        }
    }
}
