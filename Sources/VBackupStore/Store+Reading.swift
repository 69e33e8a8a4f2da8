import Foundation
import VBackupModel

/// Reading points and chunks. Everything read is verified: disk indexes against the digest in
/// the manifest, chunks against their id.
extension Store {
    /// Points whose VM name or UUID is `vm` (all points when nil), oldest first.
    public func listPoints(vm: String? = nil) throws -> [PointManifest] {
        try catalog.pointManifests(vm: vm).map { try decodeCached($0) }
    }

    public func point(id: String) throws -> PointManifest {
        guard let json = try catalog.pointManifest(id: id) else {
            let suffix = "/\(id)/\(StoreFormat.manifestName)"
            if let (key, reason) = try catalog.problems().first(where: { $0.key.hasSuffix(suffix) }) {
                throw StoreError.corrupt(key: key, reason: reason)
            }
            throw StoreError.pointNotFound(id)
        }
        return try decodeCached(json)
    }

    public func latestPoint(vmUUID: String) throws -> PointManifest? {
        try catalog.latestPointManifest(vmUUID: vmUUID).map { try decodeCached($0) }
    }

    /// Reads a disk's chunk index, checking it against `disk.indexDigest`.
    public func readDiskIndex(_ disk: PointDisk) throws -> DiskIndex {
        let data = try io(disk.indexKey) { try adapter.get(disk.indexKey) }
        let digest = Digests.hex(of: data)
        guard digest == disk.indexDigest else {
            throw StoreError.corrupt(key: disk.indexKey, reason: "SHA-256 \(digest), manifest says \(disk.indexDigest)")
        }
        return try io(disk.indexKey) { try DiskIndex(serialized: opened(data, kind: .diskIndex)) }
    }

    /// Reads one chunk with a ranged read of its pack, decoded and verified. `ChunkID.zero`
    /// reads as `chunkSize` zero bytes (callers trim a disk's short last chunk).
    ///
    /// A chunk with several locations (a copy rescued from a damaged pack) is read from the next
    /// one when a pack is missing or its copy is corrupt.
    public func readChunk(_ id: ChunkID) throws -> Data {
        if id.isZero { return Data(count: config.chunkSize) }
        let locations = try catalog.locations(of: id)
        guard !locations.isEmpty else { throw StoreError.chunkMissing(id) }
        var firstError: Error?
        for location in locations {
            do {
                return try readChunk(at: location)
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        throw firstError!
    }

    func readChunk(at location: ChunkLocation) throws -> Data {
        let key = StoreFormat.packKey(location.pack)
        let blob = try io(key) {
            try adapter.getRange(key, offset: Int(location.offset), length: Int(location.length))
        }
        return try io(key) { try chunkCodec.decode(blob, expecting: location.id) }
    }

    /// Reads an extra point object (e.g. the NVRAM saved with `WriteSession.putPointObject`).
    public func readPointObject(key: String) throws -> Data {
        try io(key) { try getOpened(key, kind: .pointObject) }
    }

    /// Whether the catalog knows the chunk (the all-zero marker always "exists").
    public func hasChunk(_ id: ChunkID) throws -> Bool {
        try id.isZero || !catalog.locations(of: id).isEmpty
    }

    private func decodeCached(_ json: String) throws -> PointManifest {
        do {
            return try StoreJSON.decode(PointManifest.self, from: Data(json.utf8))
        } catch {
            throw StoreError.catalog("unreadable cached manifest: \(error)")
        }
    }
}
