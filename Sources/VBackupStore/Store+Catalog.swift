import Foundation
import StorageAdapter

/// Keeping the local catalog in step with the store, which may be written by other hosts.
///
/// Refresh is tolerant: a fragment or manifest that cannot be read is recorded as a problem
/// (`unreadableObjects`) and skipped, so one damaged object never makes the whole store
/// unusable. Commands that must not work around it (GC) check the problems first.
extension Store {
    /// Ingests new index fragments and manifests, and forgets what vanished from the store.
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

    /// Objects the last refresh could not read, with the reason: key → reason.
    public func unreadableObjects() throws -> [String: String] {
        try catalog.problems()
    }

    func refreshFragments() throws {
        let listed = try io(StoreFormat.indexPrefix) { try adapter.list(prefix: StoreFormat.indexPrefix) }
        let present = Set(listed.map(\.key).filter { $0.hasSuffix(".idx") })
        var ingested = try catalog.ingestedFragments()
        let vanished = ingested.subtracting(present)
        if !vanished.isEmpty {
            // Fragments are replaced when GC or repair drop packs from them: forget every
            // location in the packs they named, then re-ingest the fragments that still name
            // some of those packs (the replacements).
            let packs = try catalog.packs(namedBy: vanished)
            let affected = try catalog.fragments(naming: packs)
            try catalog.forget(fragments: affected.union(vanished), packs: packs)
            ingested.subtract(affected.union(vanished))
        }
        var problems: [String: String] = [:]
        for key in present.subtracting(ingested).sorted() {
            do {
                try ingestFragment(key: key)
            } catch StoreError.corrupt(_, let reason) {
                problems[key] = reason
            }
        }
        try catalog.setProblems(problems, under: StoreFormat.indexPrefix)
    }

    func ingestFragment(key: String) throws {
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

    func refreshPoints() throws {
        let listed = try io(StoreFormat.pointsPrefix) { try adapter.list(prefix: StoreFormat.pointsPrefix) }
        let present = Set(listed.map(\.key).filter(StoreFormat.isManifestKey))
        let known = try catalog.pointKeys()
        var problems: [String: String] = [:]
        for key in present.subtracting(known).sorted() {
            do {
                let data = try getOpened(key, kind: .manifest)
                let manifest = try StoreJSON.manifest(data, key: key)
                try catalog.insertPoint(key: key, manifest: manifest, json: data)
            } catch StorageError.notFound {
                continue
            } catch let error as StorageError {
                throw StoreError.storage(error)
            } catch StoreError.corrupt(_, let reason) {
                problems[key] = reason
            }
        }
        try catalog.deletePoints(keys: known.subtracting(present))
        try catalog.setProblems(problems, under: StoreFormat.pointsPrefix)
    }
}
