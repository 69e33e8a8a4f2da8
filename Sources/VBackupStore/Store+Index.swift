import Foundation

/// Writing and rewriting the chunk index (fragments), and reading blobs out of whole packs:
/// the pieces write sessions, GC, repack and verify's repair share.
extension Store {
    /// Writes an index fragment naming `locations` (sealed in an encrypted store, named by
    /// the SHA-256 of its stored bytes), then lets the catalog offer those chunks. An immutable
    /// point's session retains its fragment as long as its packs (`retainUntil`).
    func putFragment(_ locations: [ChunkLocation], retainUntil: Date? = nil) throws {
        guard !locations.isEmpty else { return }
        let data = sealed(IndexFragment(locations: locations).serialized(), kind: .indexFragment)
        let key = StoreFormat.fragmentKey(Digests.hex(of: data))
        try put(key, data: data, retainUntil: retainUntil)
        try catalog.ingest(fragment: key, locations: locations)
    }

    /// Rewrites the index fragments that name `packs` without them (replacement first, then the
    /// old fragment is deleted), so no host's catalog offers chunks from those packs again.
    ///
    /// Returns the packs still indexed because the storage retains a fragment naming them
    /// (object lock; see `Store+ObjectLock` for why that should not happen): they must not be
    /// deleted. Such a fragment stays and is re-ingested at the next refresh.
    @discardableResult
    func dropFromIndex(packs: Set<String>) throws -> Set<String> {
        guard !packs.isEmpty else { return [] }
        let fragments = try catalog.fragments(naming: packs)
        var stillIndexed: Set<String> = []
        for key in fragments.sorted() {
            let data = try io(key) { try adapter.get(key) }
            let fragment = try io(key) { try IndexFragment(serialized: opened(data, kind: .indexFragment)) }
            try putFragment(fragment.locations.filter { !packs.contains($0.pack) })
            if try deleteUnlessRetained(key) != nil {
                stillIndexed.formUnion(fragment.locations.map(\.pack).filter(packs.contains))
            }
        }
        try catalog.forget(fragments: fragments, packs: packs)
        return stillIndexed
    }

    /// Every stored pack and its size.
    func listPacks() throws -> [String: Int] {
        let listed = try io("packs/") { try adapter.list(prefix: "packs/") }
        var packs: [String: Int] = [:]
        for object in listed where object.key.hasSuffix(".pack") {
            let name = object.key.split(separator: "/").last!.dropLast(".pack".count)
            packs[String(name)] = object.size
        }
        return packs
    }

    /// The blob at `location` in a whole pack, decoded and checked against its chunk id:
    /// what it decodes to, or why not.
    func checkBlob(at location: ChunkLocation, in pack: Data) -> Result<Data, StoreError> {
        let end = Int(location.offset) + Int(location.length)
        guard end <= pack.count else {
            return .failure(.corrupt(key: "chunk \(location.id)", reason: "lies past the end of pack \(location.pack)"))
        }
        let blob = pack.subdata(in: Int(location.offset)..<end)
        do {
            _ = try chunkCodec.decode(blob, expecting: location.id)
            return .success(blob)
        } catch let error as StoreError {
            return .failure(error)
        } catch {
            return .failure(.corrupt(key: "chunk \(location.id)", reason: "\(error)"))
        }
    }
}
