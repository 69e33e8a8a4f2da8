import Foundation
import LocalStorage
import VBackupModel
import VBackupStore
import XCTest

/// A store filled in process with small synthetic points at chosen times (no libvirt), and the
/// data each point holds, so tests can run the `vbackup` binary on it and check what is left.
final class SyntheticStore {
    struct VM {
        var name: String
        var uuid: String
    }

    static let chunkSize = 16 << 10
    let root: URL
    let storePath: URL
    /// The CLI's catalog cache (`VBACKUP_CACHE`); the in-process store uses its own.
    let cliCache: URL
    let store: Store
    /// Each point's disk content, chunk by chunk.
    private(set) var chunksByPoint: [String: [Data]] = [:]

    /// Small packs give GC many to delete, so a kill lands in the middle of its work.
    init(packSize: Int = 128 << 10) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("vbackup-synthetic-\(UUID().uuidString.prefix(8))")
        storePath = root.appendingPathComponent("store")
        cliCache = root.appendingPathComponent("cli-cache")
        store = try Store.create(adapter: LocalStorageAdapter(root: storePath, create: true),
                                 cacheDirectory: root.appendingPathComponent("cache"),
                                 chunkSize: Self.chunkSize, packSize: packSize)
    }

    func cleanup() { try? FileManager.default.removeItem(at: root) }

    /// Commits a point of `vm` taken at `createdAt`: one 4-chunk disk (a chunk shared by every
    /// point of the VM, a zero chunk, two of its own) and an NVRAM object.
    @discardableResult
    func addPoint(_ vm: VM, at createdAt: Date, seed: Int) throws -> PointManifest {
        try addPoint(vm, at: createdAt, chunks: [
            Self.bytes(seed: vm.uuid.utf8.reduce(7) { $0 &* 31 &+ Int($1) } & 0xFFFF), Data(count: Self.chunkSize),
            Self.bytes(seed: seed * 2 + 1), Self.bytes(seed: seed * 2 + 2),
        ])
    }

    /// Commits a point of `vm` whose one disk holds `chunks` (each `chunkSize` bytes), and an
    /// NVRAM object.
    @discardableResult
    func addPoint(_ vm: VM, at createdAt: Date, chunks: [Data]) throws -> PointManifest {
        let id = Store.newPointID(at: createdAt)
        let session = try store.beginSession()
        var ids: [ChunkID] = []
        for data in chunks {
            if data.allSatisfy({ $0 == 0 }) { ids.append(.zero); continue }
            let chunk = data.withUnsafeBytes { store.chunkCodec.encode($0) }
            _ = try session.add(chunk)
            ids.append(chunk.id)
        }
        let index = DiskIndex(virtualSize: UInt64(chunks.count * Self.chunkSize), chunkSize: Self.chunkSize, chunks: ids)
        let disk = try session.putDiskIndex(index, vmUUID: vm.uuid, pointID: id, target: "vda")
        let nvram = try session.putPointObject(Self.nvram(id), vmUUID: vm.uuid, pointID: id, name: "nvram")
        let manifest = PointManifest(
            id: id, vmName: vm.name, vmUUID: vm.uuid, createdAt: createdAt, finishedAt: createdAt.addingTimeInterval(30),
            consistency: .shutoff, consistencyNote: nil, host: "test-host", domainXML: "<domain/>",
            nvramKey: nvram, nvramPath: "/var/lib/libvirt/qemu/nvram/\(vm.name)_VARS.fd",
            disks: [PointDisk(
                target: "vda", sourcePath: "/images/\(vm.name).qcow2", format: "qcow2", virtualSize: index.virtualSize,
                chunkSize: Self.chunkSize, mode: .full, fullReason: nil, checkpoint: nil, basePoint: nil,
                indexKey: disk.key, indexDigest: disk.digest, bytesRead: index.virtualSize, bytesStored: 0,
                dataBytes: 0, chunksNew: ids.filter { !$0.isZero }.count, chunksReused: 0)])
        try session.commit(manifest)
        chunksByPoint[id] = chunks
        return manifest
    }

    /// Opens the store as a new host would and checks that every point it lists reads back
    /// bit-exact; returns the listed point ids.
    func verifyEveryPoint(file: StaticString = #filePath, line: UInt = #line) throws -> Set<String> {
        let cache = root.appendingPathComponent("verify-\(UUID().uuidString.prefix(6))")
        let reopened = try Store.open(adapter: LocalStorageAdapter(root: storePath, create: false), cacheDirectory: cache)
        defer { try? FileManager.default.removeItem(at: cache) }
        var ids = Set<String>()
        for point in try reopened.listPoints() {
            ids.insert(point.id)
            guard let expected = chunksByPoint[point.id] else {
                XCTFail("unknown point \(point.id)", file: file, line: line)
                continue
            }
            let index = try reopened.readDiskIndex(point.disks[0])
            XCTAssertEqual(index.chunks.count, expected.count, file: file, line: line)
            for (position, id) in index.chunks.enumerated() {
                XCTAssertEqual(try reopened.readChunk(id), expected[position], "\(point.id) chunk \(position)", file: file, line: line)
            }
            XCTAssertEqual(try reopened.readPointObject(key: point.nvramKey!), Self.nvram(point.id), file: file, line: line)
        }
        return ids
    }

    /// The CLI's environment: its own cache, UTC, no host config file.
    var environment: [String: String] { ["VBACKUP_CACHE": cliCache.path, "TZ": "UTC", "VBACKUP_CONFIG": "/nonexistent"] }

    /// Runs `vbackup` on this store to completion.
    func vbackup(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runTool(vbackupBinary, arguments + ["--store", storePath.path], environment: environment)
    }

    /// Starts `vbackup` on this store and SIGKILLs it after `delay` seconds; returns whether
    /// the kill ended it (false: it had finished by itself).
    func runAndKill(_ arguments: [String], after delay: Double) throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: vbackupBinary)
        process.arguments = arguments + ["--store", storePath.path]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: delay)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal
    }

    /// Every file under the store, for "nothing changed" checks.
    func listing() throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: storePath.path).sorted()
    }

    static func bytes(seed: Int) -> Data {
        var state = UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 | 1
        return Data((0..<chunkSize).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        })
    }

    static func nvram(_ pointID: String) -> Data { Data("nvram of \(pointID)".utf8) }
}

/// `2026-03-01T00:00:00Z` plus days, hours and minutes.
func utcDate(day: Int, hour: Int, minute: Int = 0) -> Date {
    Date(timeIntervalSince1970: 1_772_323_200 + Double(day * 86_400 + hour * 3_600 + minute * 60))
}

/// Decodes a JSON object or array printed by the CLI.
func jsonValue(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> Any {
    do {
        return try JSONSerialization.jsonObject(with: Data(text.utf8))
    } catch {
        XCTFail("not JSON: \(text.prefix(300))", file: file, line: line)
        throw error
    }
}
