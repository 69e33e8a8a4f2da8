import Foundation
import LocalStorage
import StorageAdapter
import VBackupModel
import VBackupStore
import XCTest

/// A fresh directory under the system temp dir, removed when the test case finishes.
func makeTemporaryDirectory(_ test: XCTestCase, _ name: String = "dir") throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("vbackup-tests-\(UUID().uuidString)")
        .appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
    return url
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
func pseudoRandomBytes(count: Int, seed: UInt64) -> Data {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var bytes = [UInt8](repeating: 0, count: count)
    for index in 0..<count {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        bytes[index] = UInt8(truncatingIfNeeded: state)
    }
    return Data(bytes)
}

/// Text-like data that zstd compresses well.
func compressibleBytes(count: Int, seed: Int) -> Data {
    let line = Array("line \(seed): the quick brown fox jumps over the lazy dog\n".utf8)
    return Data((0..<count).map { line[$0 % line.count] })
}

func encode(_ data: Data) -> EncodedChunk {
    encode(data, with: .plain)
}

func encode(_ data: Data, with codec: ChunkCodec) -> EncodedChunk {
    data.withUnsafeBytes { codec.encode($0) }
}

/// A store on a local directory, with its own catalog cache directory.
struct StoreFixture {
    let storeDirectory: URL
    let adapter: LocalStorageAdapter

    init(_ test: XCTestCase) throws {
        storeDirectory = try makeTemporaryDirectory(test, "store")
        adapter = try LocalStorageAdapter(root: storeDirectory, create: false)
    }

    /// Every object key in the store.
    func keys(_ prefix: String = "") throws -> [String] {
        try adapter.list(prefix: prefix).map(\.key).sorted()
    }
}

/// A manifest for one disk, as the backup engine would commit it.
func sampleManifest(
    pointID: String, vmUUID: String = "6f1c2d3e-0000-4000-8000-000000000001", vmName: String = "web1",
    createdAt: Date = Date(timeIntervalSince1970: 1_800_000_000), disk: (key: String, digest: String)? = nil
) -> PointManifest {
    let disks = disk.map { disk in
        [PointDisk(
            target: "vda", sourcePath: "/var/lib/libvirt/images/web1.qcow2", format: "qcow2",
            virtualSize: 4 << 20, chunkSize: 1 << 20, mode: .full, fullReason: nil, checkpoint: nil,
            basePoint: nil, indexKey: disk.key, indexDigest: disk.digest, bytesRead: 4 << 20,
            bytesStored: 1000, dataBytes: 3 << 20, chunksNew: 3, chunksReused: 0)]
    } ?? []
    return PointManifest(
        id: pointID, vmName: vmName, vmUUID: vmUUID, createdAt: createdAt,
        finishedAt: createdAt.addingTimeInterval(60), consistency: .quiesced, consistencyNote: nil,
        host: "host-a", domainXML: "<domain/>", nvramKey: nil, nvramPath: nil, disks: disks)
}

/// Flips one byte of a stored object in place.
func flipByte(_ fixture: StoreFixture, _ key: String, at position: (Data) -> Int) throws {
    let url = fixture.storeDirectory.appendingPathComponent(key)
    var bytes = try Data(contentsOf: url)
    bytes[position(bytes)] ^= 0x01
    try bytes.write(to: url)
}
