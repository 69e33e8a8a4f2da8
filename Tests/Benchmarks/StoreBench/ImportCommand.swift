import Foundation
import VBackupStore

/// `import`: one raw disk image as one full point, chunked at the store's chunk size with
/// all-zero chunks skipped, as the backup engine stores a disk (for comparisons with tools that
/// back up files).
enum ImportCommand {
    static func run(_ arguments: Arguments) throws {
        try arguments.only(["store", "cache", "file", "vm", "chunk-kib"])
        let path = try arguments.string("file")
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw BenchError("cannot stat \(path)") }
        let size = Int(info.st_size)
        let store = try BenchStore.openOrCreate(
            arguments, chunkSize: try arguments.int("chunk-kib", default: 256) << 10, packSize: 16 << 20)
        let name = try arguments.string("vm")
        let vm = (name: name, uuid: try BenchStore.vmUUID(named: name, in: store))
        let chunkSize = store.config.chunkSize
        let started = monotonicSeconds()
        let session = try store.beginSession()
        let positions = Array(0..<((size + chunkSize - 1) / chunkSize))
        let (ids, totals) = try ParallelChunker.store(positions, chunkSize: chunkSize, session: session, codec: store.chunkCodec) { position, buffer in
            let length = min(chunkSize, size - position * chunkSize)
            try readFully(fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length]), at: position * chunkSize)
            return length
        }
        let base = try store.listPoints(vm: name).last?.id
        let disk = DiskWrite(virtualSize: UInt64(size), chunks: ids, totals: totals, bytesRead: size)
        let manifest = try BenchStore.commit(session, store: store, vm: vm, createdAt: Date(), disk: disk, basePoint: base)
        try printJSON([
            "command": "import", "point": manifest.id, "bytes": size, "chunksNew": totals.chunksNew,
            "chunksReused": totals.chunksReused, "dataBytes": totals.dataBytes, "bytesStored": totals.bytesStored,
            "seconds": monotonicSeconds() - started,
        ])
    }

    private static func readFully(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < buffer.count {
            let count = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw BenchError("short read at \(offset + done): \(String(cString: strerror(errno)))") }
            done += count
        }
    }
}
