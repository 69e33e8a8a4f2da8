import Foundation
import StorageAdapter

/// Keeping the local catalog in step with the store, which may be written by other hosts.
extension Store {
    /// Ingests new index fragments and manifests, and forgets points whose manifest is gone.
    public func refresh() throws {
        try refreshFragments()
        try refreshPoints()
    }

    /// Forgets everything cached and re-reads the store, which describes itself completely.
    public func rebuildCatalog() throws {
        try catalog.forgetChunks()
        try catalog.forgetPoints()
        try refresh()
    }

    private func refreshFragments() throws {
        let listed = try io(StoreFormat.indexPrefix) { try adapter.list(prefix: StoreFormat.indexPrefix) }
        let present = Set(listed.map(\.key).filter { $0.hasSuffix(".idx") })
        var ingested = try catalog.ingestedFragments()
        if !ingested.isSubset(of: present) {
            // A fragment vanished (compaction): chunk rows from it may now be stale.
            try catalog.forgetChunks()
            ingested = []
        }
        for key in present.subtracting(ingested).sorted() {
            try ingestFragment(key: key)
        }
    }

    private func ingestFragment(key: String) throws {
        let data: Data
        do {
            data = try adapter.get(key)
        } catch StorageError.notFound {
            return  // deleted since the listing
        } catch let error as StorageError {
            throw StoreError.storage(error)
        }
        let expected = key.dropFirst(StoreFormat.indexPrefix.count).dropLast(".idx".count)
        guard Digests.hex(of: data) == expected else {
            throw StoreError.corrupt(key: key, reason: "content does not match its SHA-256 name")
        }
        let fragment = try io(key) { try IndexFragment(serialized: opened(data, kind: .indexFragment)) }
        try catalog.ingest(fragment: key, locations: fragment.locations)
    }

    private func refreshPoints() throws {
        let listed = try io(StoreFormat.pointsPrefix) { try adapter.list(prefix: StoreFormat.pointsPrefix) }
        let present = Set(listed.map(\.key).filter(StoreFormat.isManifestKey))
        let known = try catalog.pointKeys()
        for key in present.subtracting(known).sorted() {
            let data: Data
            do {
                data = try getOpened(key, kind: .manifest)
            } catch StorageError.notFound {
                continue
            } catch let error as StorageError {
                throw StoreError.storage(error)
            }
            let manifest = try StoreJSON.manifest(data, key: key)
            try catalog.insertPoint(key: key, manifest: manifest, json: data)
        }
        try catalog.deletePoints(keys: known.subtracting(present))
    }
}
