/// # The vbackup store format (version 1)
///
/// A store is a set of immutable objects behind a `StorageAdapter`. The store chooses every key
/// and every byte; adapters only move objects. All integers are little-endian.
///
/// ## Objects
///
/// | Key | Content |
/// |-----|---------|
/// | `config.json` | `StoreConfig`: format `vbackup-store`, version, store id, chunk and pack size |
/// | `packs/<2 hex>/<packID>.pack` | many chunk blobs back to back, then a trailer (see `Pack`) |
/// | `index/<sha256>.idx` | index fragment of one write session: chunk id → pack, offset, length |
/// | `points/<vmUUID>/<pointID>/<target>.didx` | disk index: the chunk id of every chunk of a disk |
/// | `points/<vmUUID>/<pointID>/<name>` | extra point objects (e.g. `nvram`) |
/// | `points/<vmUUID>/<pointID>/manifest.json` | the `PointManifest`: the commit record |
/// | `sessions/<id>.json` | lease of a running write session (`LeaseHolder`), renewed until it ends |
/// | `locks/maintenance.json` | lease of the one GC or repair running (created exclusively) |
/// | `gc/<id>.json` | a GC's condemned packs and orphan objects, pending deletion (`CondemnedRecord`) |
/// | `marks/damaged/<pointID>.json` | what verify found wrong with a point (`PointDamage`) |
/// | `marks/protected/<pointID>` | the point is protected: prune keeps it, `deletePoint` refuses (see `Store+Retention`) |
/// | `quarantine/<key>` | objects verify found bad, moved aside as evidence; never deleted by vbackup |
///
/// - A **chunk** is a fixed-size slice of a disk (`chunkSize`, 256 KiB by default; the last one
///   may be shorter). Its id is the SHA-256 of its raw bytes. All-zero chunks are never hashed or
///   stored: disk indexes name them `ChunkID.zero`.
/// - A **chunk blob** is `"VBC" codec:u8 rawLength:u32 payload`, codec 0 = raw, 1 = zstd
///   (level 1; a chunk that does not shrink is kept raw). Every read decodes the blob and checks
///   its SHA-256 against the id, so silent corruption surfaces as `StoreError.corrupt`.
/// - A **pack** (`Pack`) is blobs followed by a trailer listing (id, offset, length, rawLength)
///   for each blob, the trailer length and a magic. Its name is the SHA-256 of its bytes. Packs
///   are self-describing: the chunk index can be rebuilt from packs alone.
/// - An **index fragment** (`IndexFragment`) lists the chunks one session stored. The union of
///   all fragments is the chunk index; the local catalog caches it.
/// - A **disk index** (`DiskIndex`) is `"VBDIDX\0\0" version:u32 rawLength:u64` + zstd frame of
///   `virtualSize:u64 chunkSize:u32 count:u64 count×id[32]`. Its SHA-256 is recorded in
///   `PointDisk.indexDigest` and checked on every read.
///
/// ## Why packs
///
/// Object stores charge and wait per request: millions of 1 MiB objects cost far more in PUTs and
/// round trips than a few thousand 16 MiB ones (borg2 dropped its one-object-per-chunk layout
/// for that reason); on local file systems, packs keep directories small. Reads stay cheap
/// because a chunk is one ranged read of its pack.
///
/// ## Write order, and what a crash leaves
///
/// 1. Chunks fill an in-memory pack; a full pack is sealed and `put` (durable when it returns).
/// 2. At commit: the open pack is sealed and put, then the session's index fragment.
/// 3. Disk indexes and point objects (any time before the manifest).
/// 4. The manifest, last. It is the only commit point: a point exists iff its manifest does.
///
/// A crash at any moment leaves at most packs, fragments, disk indexes or point objects that
/// no manifest names: garbage for a later GC, never a visible partial point. A chunk is offered
/// for deduplication (via the catalog) only once its fragment is durable, except to the session
/// that wrote it, so no point can reference a chunk whose location was never recorded.
///
/// ## Lifecycle: verify, prune, GC
///
/// - **Verify** (`Verifier`) reads each pack once however many points share it, checks pack
///   hashes and every blob against its chunk id, and names the points that need a lost chunk.
///   Repair copies a bad pack's intact blobs to a new pack, rewrites the fragments without the
///   bad pack, moves it under `quarantine/`, and marks the damaged points: no host then offers
///   the lost chunks for dedup, and a damaged point is never the base of an incremental, so the
///   next backup stores them again and heals every point that needs them.
/// - **Prune** deletes a point's manifest first (the point vanishes atomically), then its other
///   objects; leftovers are orphans for GC.
/// - **GC** (`GarbageCollector`) is mark, condemn, wait for the sessions that could have missed
///   the condemnation, re-mark, sweep; safe while backups on any host run.
///
/// ## The catalog
///
/// A local SQLite cache (`Catalog`) at `<cacheDirectory>/<storeID>/catalog.sqlite`, outside the
/// store: chunk locations, ingested fragments and points. `Store.refresh()` ingests new
/// fragments and manifests (so hosts sharing a store see each other's points);
/// `Store.rebuildCatalog()` rebuilds it from the store, which is the only source of truth.
enum StoreFormat {
    static let formatName = "vbackup-store"
    static let version = 1
    static let configKey = "config.json"
    static let indexPrefix = "index/"
    static let pointsPrefix = "points/"
    static let manifestName = "manifest.json"

    static func packKey(_ packID: String) -> String {
        "packs/\(packID.prefix(2))/\(packID).pack"
    }

    static func fragmentKey(_ digest: String) -> String {
        "\(indexPrefix)\(digest).idx"
    }

    static func pointPrefix(vmUUID: String, pointID: String) -> String {
        "\(pointsPrefix)\(vmUUID)/\(pointID)/"
    }

    static func manifestKey(vmUUID: String, pointID: String) -> String {
        pointPrefix(vmUUID: vmUUID, pointID: pointID) + manifestName
    }

    /// Whether `key` is `points/<vm>/<point>/manifest.json`.
    static func isManifestKey(_ key: String) -> Bool {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "points" && parts[3] == manifestName
    }

    /// Names that become key segments must be plain: no separators, no dot-names.
    static func validateName(_ name: String) throws {
        let ok = !name.isEmpty && !name.hasPrefix(".") && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        if !ok { throw StoreError.invalidName(name) }
    }
}
