import Foundation
import StorageAdapter
import VBackupModel

/// Checks that points restore: every object they need is readable and every chunk they name
/// exists and hashes to its id. Cost grows with the store, not with points × their size: disk
/// indexes are read once per point (32 bytes per chunk), but each pack is read once, however
/// many points share its chunks.
///
/// Order: metadata (manifests, disk indexes), then where each referenced chunk lives (one scan
/// of the catalog), then the packs (whole-pack reads on several threads: the pack's SHA-256
/// against its name, each blob decoded and hashed against its chunk id). A chunk is lost when
/// every copy of it is missing or bad; the points that name a lost chunk are damaged.
struct Verifier {
    let store: Store
    let options: VerifyOptions
    let progress: any MaintenanceProgress

    /// One pack's check.
    struct PackCheck: Sendable {
        var bytes = 0
        var missing = false
        var hashMatches = true
        var badChunks: [ChunkID: String] = [:]
        var chunks = 0
    }

    /// What the checking phase found, before repair.
    struct Findings {
        var report: VerifyReport
        var badPacks: [String: String] = [:]
        var missingPacks: Set<String> = []
        var lostChunks: [ChunkID: String] = [:]
        var damagedMarks: Set<String> = []
        var unreadableFragments: [String: String] = [:]
        var unreadableManifests: [String: String] = [:]
    }

    func check() throws -> Findings {
        let started = Date()
        try store.refresh()
        let problems = try store.unreadableObjects()
        var findings = Findings(report: VerifyReport(
            ok: true, pointsChecked: 0, damaged: [], healed: [], badObjects: [], missingChunks: 0, badChunks: 0,
            packsChecked: 0, packsSkipped: 0, chunksChecked: 0, bytesRead: 0, seconds: 0, megabytesPerSecond: 0))
        for (key, reason) in problems {
            if key.hasPrefix(StoreFormat.indexPrefix) { findings.unreadableFragments[key] = reason } else { findings.unreadableManifests[key] = reason }
        }
        let points = try selectPoints()
        findings.report.pointsChecked = points.count
        findings.damagedMarks = try store.damagedPointIDs().intersection(points.map(\.id))

        var objectDamage: [String: [DamagedObject]] = [:]
        let referenced = try referencedChunks(points, objectDamage: &objectDamage)
        var mustCheck = Set<ChunkID>()
        for id in findings.damagedMarks {
            for chunk in try store.damage(of: id)?.chunks ?? [] { if let chunkID = ChunkID(hex: chunk.id) { mustCheck.insert(chunkID) } }
        }

        let (packs, forced, located, missingPacks) = try locate(referenced, mustCheck: mustCheck)
        findings.missingPacks = missingPacks
        let chosen = sample(packs, forced: forced)
        findings.report.packsSkipped = packs.count - chosen.count
        let checks = try checkPacks(chosen)
        var badCandidates: [ChunkID: String] = [:]
        for (pack, check) in checks {
            findings.report.packsChecked += 1
            findings.report.bytesRead += check.bytes
            findings.report.chunksChecked += check.chunks
            if check.missing { findings.missingPacks.insert(pack); continue }
            if !check.hashMatches { findings.badPacks[pack] = "content does not match its SHA-256 name" }
            for (id, reason) in check.badChunks {
                findings.badPacks[pack] = reason
                badCandidates[id] = reason
            }
        }
        for id in referenced.subtracting(located) { findings.lostChunks[id] = "no copy in any pack" }
        findings.report.missingChunks = findings.lostChunks.count
        for (id, reason) in badCandidates where referenced.contains(id) {
            let good = try store.catalog.locations(of: id).contains { location in
                !findings.missingPacks.contains(location.pack) && checks[location.pack]?.badChunks[id] == nil
            }
            if !good { findings.lostChunks[id] = reason; findings.report.badChunks += 1 }
        }
        findings.report.damaged = try attribute(points, lost: findings.lostChunks, objectDamage: objectDamage)
        let damagedNow = Set(findings.report.damaged.map(\.pointID))
        findings.report.healed = findings.damagedMarks.subtracting(damagedNow).sorted()
        for (key, reason) in problems.sorted(by: { $0.key < $1.key }) {
            findings.report.badObjects.append(BadObject(key: key, reason: reason, movedTo: nil))
        }
        for (pack, reason) in findings.badPacks.sorted(by: { $0.key < $1.key }) {
            findings.report.badObjects.append(BadObject(key: StoreFormat.packKey(pack), reason: reason, movedTo: nil))
        }
        for pack in findings.missingPacks.sorted() {
            findings.report.badObjects.append(BadObject(key: StoreFormat.packKey(pack), reason: "missing", movedTo: nil))
        }
        findings.report.ok = findings.report.damaged.isEmpty && findings.report.badObjects.isEmpty
        findings.report.seconds = Date().timeIntervalSince(started)
        if findings.report.seconds > 0 {
            findings.report.megabytesPerSecond = Double(findings.report.bytesRead) / 1e6 / findings.report.seconds
        }
        return findings
    }

    private func selectPoints() throws -> [(id: String, key: String, manifest: PointManifest)] {
        var points = try store.catalog.pointEntries().map { entry in
            let manifest = try StoreJSON.manifest(Data(entry.json.utf8), key: entry.key)
            return (id: manifest.id, key: entry.key, manifest: manifest)
        }
        if let ids = options.pointIDs {
            let known = Set(points.map(\.id))
            if let unknown = ids.first(where: { !known.contains($0) }) { _ = try store.point(id: unknown) }
            points = points.filter { ids.contains($0.id) }
        }
        if let vm = options.vm {
            points = points.filter { $0.manifest.vmName == vm || $0.manifest.vmUUID == vm }
        }
        if let since = options.since { points = points.filter { $0.manifest.createdAt >= since } }
        return points
    }

    /// Re-reads each point's manifest and disk indexes; returns every chunk they name.
    private func referencedChunks(
        _ points: [(id: String, key: String, manifest: PointManifest)], objectDamage: inout [String: [DamagedObject]]
    ) throws -> Set<ChunkID> {
        progress.phase("reading point indexes", total: points.count)
        var referenced = Set<ChunkID>()
        for point in points {
            defer { progress.advanced(by: 1) }
            do {
                _ = try StoreJSON.manifest(try store.getOpened(point.key, kind: .manifest), key: point.key)
            } catch {
                objectDamage[point.id, default: []].append(DamagedObject(key: point.key, reason: "\(error)"))
            }
            for disk in point.manifest.disks {
                do {
                    for id in try store.readDiskIndex(disk).chunks where !id.isZero { referenced.insert(id) }
                } catch {
                    objectDamage[point.id, default: []].append(DamagedObject(key: disk.indexKey, reason: "\(error)"))
                }
            }
        }
        return referenced
    }

    /// One scan of the catalog: which packs hold referenced chunks (and which of those must be
    /// read because they hold chunks of damaged points), which referenced chunks have a copy
    /// in a pack that exists, and which packs the catalog names but the store lacks.
    private func locate(
        _ referenced: Set<ChunkID>, mustCheck: Set<ChunkID>
    ) throws -> (packs: [String], forced: Set<String>, located: Set<ChunkID>, missing: Set<String>) {
        let stored = try store.listPacks()
        var packs: [String] = [], forced: Set<String> = [], located: Set<ChunkID> = [], missing: Set<String> = []
        try store.catalog.forEachPackIDs { pack, ids in
            let named = ids.filter { referenced.contains($0) }
            guard !named.isEmpty else { return }
            guard stored[pack] != nil else { missing.insert(pack); return }
            packs.append(pack)
            located.formUnion(named)
            if named.contains(where: { mustCheck.contains($0) }) { forced.insert(pack) }
        }
        return (packs, forced, located, missing)
    }

    private func sample(_ packs: [String], forced: Set<String>) -> [String] {
        guard options.samplePercent < 100 else { return packs }
        let count = Int((Double(packs.count) * max(0, options.samplePercent) / 100).rounded(.up))
        return Array(Set(packs.shuffled().prefix(count)).union(forced))
    }

    /// Reads and checks packs on several threads (each holds one pack in memory).
    private func checkPacks(_ packs: [String]) throws -> [String: PackCheck] {
        progress.phase("checking packs", total: packs.count)
        let work = PackQueue(packs)
        let threads = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread.detachNewThread { [store, progress] in
                defer { group.leave() }
                while let pack = work.next() {
                    do {
                        work.finish(pack, try Self.checkPack(pack, store: store))
                    } catch {
                        work.fail(error)
                    }
                    progress.advanced(by: 1)
                }
            }
        }
        group.wait()
        return try work.results()
    }

    static func checkPack(_ pack: String, store: Store) throws -> PackCheck {
        let key = StoreFormat.packKey(pack)
        var check = PackCheck()
        let data: Data
        do {
            data = try store.adapter.get(key)
        } catch StorageError.notFound {
            check.missing = true
            return check
        } catch let error as StorageError {
            throw StoreError.storage(error)
        }
        check.bytes = data.count
        check.hashMatches = Digests.hex(of: data) == pack
        for location in try store.catalog.chunks(inPack: pack) {
            check.chunks += 1
            if case .failure(let error) = store.checkBlob(at: location, in: data) {
                check.badChunks[location.id] = "\(error) (in \(key))"
            }
        }
        return check
    }

    /// Names, for each point, the lost chunks it needs and where they sit on its disks.
    private func attribute(
        _ points: [(id: String, key: String, manifest: PointManifest)], lost: [ChunkID: String],
        objectDamage: [String: [DamagedObject]]
    ) throws -> [PointDamage] {
        var damaged: [PointDamage] = []
        for point in points {
            var chunks: [DamagedChunk] = []
            if !lost.isEmpty {
                for disk in point.manifest.disks {
                    guard let index = try? store.readDiskIndex(disk) else { continue }
                    chunks += Self.damagedChunks(in: index, disk: disk.target, lost: lost)
                }
            }
            let objects = objectDamage[point.id] ?? []
            guard !chunks.isEmpty || !objects.isEmpty else { continue }
            damaged.append(PointDamage(
                pointID: point.id, vmUUID: point.manifest.vmUUID, vmName: point.manifest.vmName, foundAt: Date(),
                chunks: chunks, objects: objects))
        }
        return damaged
    }

    /// The lost chunks of one disk index, each with the byte ranges it covers (merged when
    /// the same chunk repeats back to back).
    static func damagedChunks(in index: DiskIndex, disk: String, lost: [ChunkID: String]) -> [DamagedChunk] {
        var found: [ChunkID: [ByteRange]] = [:]
        var order: [ChunkID] = []
        let size = UInt64(index.chunkSize)
        for (position, id) in index.chunks.enumerated() where lost[id] != nil {
            let offset = UInt64(position) * size
            let range = ByteRange(offset: offset, length: min(size, index.virtualSize - offset))
            if found[id] == nil { order.append(id) }
            if var last = found[id]?.last, last.offset + last.length == range.offset {
                last.length += range.length
                found[id]![found[id]!.count - 1] = last
            } else {
                found[id, default: []].append(range)
            }
        }
        return order.map { DamagedChunk(id: $0.hex, reason: lost[$0]!, disk: disk, ranges: found[$0]!) }
    }
}

/// Packs to check, handed out to threads; results and the first error collected.
private final class PackQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [String]
    private var done: [String: Verifier.PackCheck] = [:]
    private var failure: Error?

    init(_ packs: [String]) { pending = packs }

    func next() -> String? { lock.withLock { failure == nil ? pending.popLast() : nil } }
    func finish(_ pack: String, _ check: Verifier.PackCheck) { lock.withLock { done[pack] = check } }
    func fail(_ error: Error) { lock.withLock { if failure == nil { failure = error } } }

    func results() throws -> [String: Verifier.PackCheck] {
        try lock.withLock {
            if let failure { throw failure }
            return done
        }
    }
}
