/// # The vbackup store format (version 1; version 2 = version 1 + encryption)
///
/// A store is a set of immutable objects behind a `StorageAdapter`. The store chooses every key
/// and every byte; adapters only move objects. All integers are little-endian. A store is plain
/// (version 1) or encrypted (version 2, see "Encryption" below); both share every layout here.
///
/// ## Objects
///
/// | Key | Content |
/// |-----|---------|
/// | `config.json` | `StoreConfig`: format `vbackup-store`, version, store id, chunk and pack size, encryption |
/// | `keys/<keyID>.json` | encrypted stores: a `KeyFile`, the master key sealed under a passphrase |
/// | `packs/<2 hex>/<packID>.pack` | many chunk blobs back to back, then a trailer (see `Pack`) |
/// | `index/<sha256>.idx` | index fragment of one write session: chunk id → pack, offset, length |
/// | `points/<vmUUID>/<pointID>/<target>.didx` | disk index: the chunk id of every chunk of a disk |
/// | `points/<vmUUID>/<pointID>/<name>` | extra point objects (e.g. `nvram`) |
/// | `points/<vmUUID>/<pointID>/manifest.json` | the `PointManifest`: the commit record; `immutableUntil` (optional, ISO 8601) when the point is immutable |
/// | `sessions/<id>.json` | lease of a running write session (`LeaseHolder`), renewed until it ends |
/// | `locks/maintenance.json` | lease of the one GC or repair running (created exclusively) |
/// | `gc/<id>.json` | a GC's condemned packs and orphan objects, pending deletion (`CondemnedRecord`) |
/// | `marks/damaged/<pointID>.json` | what verify found wrong with a point (`PointDamage`) |
/// | `marks/protected/<pointID>` | the point is protected: prune keeps it, `deletePoint` refuses (see `Store+Retention`) |
/// | `quarantine/<key>` | objects verify found bad, moved aside as evidence; never deleted by vbackup |
///
/// - A **chunk** is a fixed-size slice of a disk (`chunkSize`, 256 KiB by default; the last one
///   may be shorter). Its id is the SHA-256 of its raw bytes (a keyed HMAC in an encrypted
///   store). All-zero chunks are never hashed or stored: disk indexes name them `ChunkID.zero`.
/// - A **chunk blob** is `"VBC" codec:u8 rawLength:u32 payload`, codec 0 = raw, 1 = zstd
///   (level 1; a chunk that does not shrink is kept raw). Every read decodes the blob and checks
///   its bytes against the id, so silent corruption surfaces as `StoreError.corrupt`.
/// - A **pack** (`Pack`) is blobs followed by a trailer listing (id, offset, length, rawLength)
///   for each blob, the trailer length and a magic. Its name is the SHA-256 of its bytes. Packs
///   are self-describing: the chunk index can be rebuilt from packs alone.
/// - An **index fragment** (`IndexFragment`) lists the chunks one session stored. The union of
///   all fragments is the chunk index; the local catalog caches it.
/// - A **disk index** (`DiskIndex`) is `"VBDIDX\0\0" version:u32 rawLength:u64` + zstd frame of
///   `virtualSize:u64 chunkSize:u32 count:u64 count×id[32]`. Its SHA-256 is recorded in
///   `PointDisk.indexDigest` and checked on every read.
///
/// ## Encryption
///
/// Chosen per store at creation; plain stores are byte-for-byte the version 1 format. An
/// encrypted store has `"version": 2` (so vbackup builds older than encryption refuse it rather
/// than write plaintext into it) and an `encryption` section in `config.json`:
/// `{"algorithm": "aes-256-gcm", "chunkID": "hmac-sha256", "keyCheck": <hex>}`.
///
/// - **Master key**: 32 random bytes. HKDF-SHA256 derives from it an AES-256-GCM key for
///   objects and an HMAC-SHA256 key for chunk ids (`MasterKey`). `keyCheck` is
///   HMAC-SHA256(master, "vbackup key check"): a key file of another store unlocks, but is
///   refused ("key … does not belong to store …").
/// - **Chunk ids** are HMAC-SHA256(id key, raw bytes): equal data still gets equal ids, so dedup
///   works within one store, but neither object names nor trailers reveal a chunk's SHA-256.
/// - **Every object but `config.json` and key files is sealed**: chunk blobs, pack trailers,
///   index fragments, disk indexes, manifests and extra point objects. The envelope is
///   `nonce[12] ciphertext tag[16]` (AES-256-GCM, a random 96-bit nonce per object). The
///   associated data binds a chunk blob to its chunk id and every other object to its kind
///   (`ObjectKind`), so no object can be swapped in for another. Compression happens first.
///   A sealed blob is bound to its id, not to its pack: repacking moves it as it is (only the
///   new pack trailer is sealed anew).
///   An encrypted pack ends in `sealed-trailer trailerLength:u32 "VBPACKE1"`. Pack and fragment
///   names and `PointDisk.indexDigest` are SHA-256 digests of the stored (sealed) bytes.
/// - **Nonce bound**: random 96-bit nonces stay below the 2^-32 collision risk NIST SP 800-38D
///   asks for up to about 2^32 objects per key, i.e. about 1 PiB of unique 256 KiB chunks.
///   Past that, a store needs a new master key (a new store).
/// - **Key files** (`KeyFile`, plain JSON): the master key sealed with AES-256-GCM under a key
///   derived from a passphrase by scrypt (N = 2^16, r = 8, p = 1 by default: 64 MiB; the
///   parameters are recorded per file so they can be raised). scrypt because it is memory-hard
///   and already present: swift-crypto's `_CryptoExtras` (BoringSSL) provides it, while Argon2
///   would need a new package or libsodium. By default key files live in the store under
///   `keys/` (any host with the passphrase can open it, as with restic); `store init --key-file`
///   keeps the only copy outside the store instead (as Proxmox Backup Server does). Several key
///   files may unlock one store (e.g. after `key passwd`, which writes the new file before it
///   removes the old).
/// - What stays visible: object sizes and counts, times, the VM UUIDs and point ids in keys.
///   The local catalog (outside the store) caches manifests and the chunk index in plaintext.
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
/// ## Immutable points (object lock)
///
/// On storage with object lock (`RetainingStorageAdapter`, e.g. S3 Object Lock in compliance
/// mode), a write session begun with a retention date writes an immutable point: its disk
/// indexes, point objects and manifest are retained until the manifest's `immutableUntil`; its
/// packs and index fragment until that date plus a slack (half the period, at least a day), and
/// at commit, before the manifest, every older pack the point's disk indexes name is extended to
/// that later date unless this host's catalog knows it retained past the point's date. The
/// format is otherwise unchanged: a manifest without `immutableUntil` is an ordinary point,
/// and a vbackup older than this field ignores it (and fails to delete what storage retains).
/// Prune keeps an immutable point until its date, `deletePoint` refuses it, and GC leaves
/// retained packs and objects for a later run (`Store+ObjectLock`, `GarbageCollector`).
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
    /// What a plain store is written as; encrypted stores are `encryptedVersion`.
    static let version = 1
    static let encryptedVersion = 2
    static let readableVersions = 1...2
    static let configKey = "config.json"
    static let keysPrefix = "keys/"
    static let indexPrefix = "index/"
    static let pointsPrefix = "points/"
    static let manifestName = "manifest.json"

    static func packKey(_ packID: String) -> String {
        "packs/\(packID.prefix(2))/\(packID).pack"
    }

    static func keyFileKey(_ keyID: String) -> String {
        "\(keysPrefix)\(keyID).json"
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
