import BackupEngine
import Foundation
import LibvirtClient
import VBackupModel
@testable import VBackupStore
import LocalStorage
import XCTest

/// A real libvirtd, real TCG domains with blank disks, and a fresh store per test. Everything
/// it creates it removes again, also when a test fails.
final class Lab {
    let connection: LibvirtConnection
    let root: URL
    let store: Store
    let storePath: URL
    let cachePath: URL
    private var domains: [LabDomain] = []

    init() throws {
        connection = try LibvirtConnection(uri: "qemu:///system")
        root = URL(fileURLWithPath: "/var/lib/libvirt/images/vbackup-test-\(UUID().uuidString.prefix(8))")
        storePath = root.appendingPathComponent("store")
        cachePath = root.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        store = try Store.create(adapter: LocalStorageAdapter(root: storePath, create: true), cacheDirectory: cachePath)
    }

    /// A defined and started domain.
    func domain(_ disks: [LabDomain.DiskSpec] = [.init(target: "vda", sizeMiB: 64)], start: Bool = true) throws -> LabDomain {
        let name = "vbt-\(UUID().uuidString.prefix(8).lowercased())"
        let lab = try LabDomain.define(connection: connection, name: name, disks: disks, directory: root.appendingPathComponent(name))
        domains.append(lab)
        if start { try lab.domain.start() }
        return lab
    }

    func backup(_ lab: LabDomain, full: Bool = false) throws -> PointManifest {
        var options = BackupOptions()
        options.forceFull = full
        return try BackupRunner(connection: connection, store: store, options: options).backup(vm: lab.domain.name)
    }

    /// Pauses the domain, copies every disk as the reference for this moment, backs up, resumes.
    func backupWithReference(_ lab: LabDomain, tag: String) throws -> (PointManifest, [String: String]) {
        let running = try { if case .running = try lab.domain.runState() { return true } else { return false } }()
        if running { try lab.domain.suspend() }
        defer { if running { try? lab.domain.resume() } }
        var references: [String: String] = [:]
        for (target, path) in try lab.diskPaths() {
            let copy = root.appendingPathComponent("\(lab.domain.name)-\(target)-\(tag).ref.qcow2").path
            try LabDomain.copyImage(path, to: copy)
            references[target] = copy
        }
        return (try backup(lab), references)
    }

    /// Restores `point` into a fresh folder and asserts each disk equals its reference.
    func assertRestores(_ point: PointManifest, equal references: [String: String], format: RestoreOptions.Format? = nil,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        var options = RestoreOptions()
        options.pointID = point.id
        options.format = format
        options.directory = root.appendingPathComponent("restore-\(point.id)-\(format?.rawValue ?? "native")")
        let result = try RestoreRunner(store: store, connection: nil, options: options).restore(vm: point.vmName)
        XCTAssertEqual(Set(result.disks.map(\.target)), Set(references.keys), file: file, line: line)
        for disk in result.disks {
            XCTAssertTrue(try LabDomain.sameContent(references[disk.target]!, disk.path),
                          "point \(point.id) disk \(disk.target) differs from the source at backup time", file: file, line: line)
        }
    }

    /// Bytes the store occupies on disk.
    func storeBytes() throws -> UInt64 {
        var total: UInt64 = 0
        let enumerator = FileManager.default.enumerator(at: storePath, includingPropertiesForKeys: [.fileSizeKey])
        while let url = enumerator?.nextObject() as? URL {
            total += UInt64((try url.resourceValues(forKeys: [.fileSizeKey])).fileSize ?? 0)
        }
        return total
    }

    /// A file of random bytes under the lab's folder, made once per size and readable by QEMU.
    func randomFile(mib: Int) throws -> String {
        let path = root.appendingPathComponent("random-\(mib).bin").path
        if !FileManager.default.fileExists(atPath: path) {
            let result = try runTool("/bin/dd", ["if=/dev/urandom", "of=\(path)", "bs=1M", "count=\(mib)", "status=none"])
            XCTAssertEqual(result.status, 0, result.err)
            chmod(path, 0o644)
        }
        return path
    }

    /// Rots one byte of `chunk`'s stored blob in its pack, as bit rot on the disk would: the
    /// chunk no longer matches its id.
    func rot(_ chunk: ChunkID) throws {
        let location = try XCTUnwrap(try store.catalog.locations(of: chunk).first)
        try flipByte(in: storePath.appendingPathComponent(StoreFormat.packKey(location.pack)).path, at: Int(location.offset) + 12)
    }

    func cleanup() {
        for lab in domains { lab.remove() }
        try? FileManager.default.removeItem(at: root)
    }
}

extension UInt64 {
    static let mib: UInt64 = 1 << 20
}

/// Inverts the byte at `offset` of the file at `path`.
func flipByte(in path: String, at offset: Int) throws {
    let handle = try XCTUnwrap(FileHandle(forUpdatingAtPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64(offset))
    let byte = try XCTUnwrap(handle.readData(ofLength: 1).first)
    try handle.seek(toOffset: UInt64(offset))
    handle.write(Data([byte ^ 0xFF]))
}

/// Runs a program to completion and returns its exit status, standard output and error.
@discardableResult
func runTool(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Both pipes are drained at once: a child filling one while we wait on the other would block.
    nonisolated(unsafe) var errData = Data()
    let errDone = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        errDone.signal()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    errDone.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// Starts `vbackup ARGUMENTS` in the background with its output appended to `log`; the caller
/// stops the process and closes the handle.
func startVbackup(_ arguments: [String], log: URL, environment: [String: String] = [:]) throws -> (Process, FileHandle) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: vbackupBinary)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
    let handle = try FileHandle(forWritingTo: log)
    handle.seekToEndOfFile()
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    return (process, handle)
}

/// The `vbackup` executable built next to the tests.
var vbackupBinary: String {
    // On Linux the bundle URL is the build folder holding the test binary; elsewhere, the
    // .xctest bundle inside it.
    let bundle = Bundle(for: Lab.self).bundleURL
    let candidates = [bundle.appendingPathComponent("vbackup"), bundle.deletingLastPathComponent().appendingPathComponent("vbackup")]
    return (candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]).path
}
