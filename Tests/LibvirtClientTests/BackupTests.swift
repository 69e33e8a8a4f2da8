import Foundation
import LibvirtClient
import NBDClient
import Testing

/// Full, then incremental pull backups of a running TCG domain, read back over NBD, then
/// checkpoint deletion. One domain, steps in order: each depends on the one before.
@Suite("Pull-mode backups and checkpoints")
struct BackupTests {
    static let mib: UInt64 = 1 << 20
    typealias Extent = (offset: UInt64, length: UInt64, flags: UInt32)

    @Test func fullIncrementalAndCheckpointDelete() throws {
        let vm = try TestDomain()
        defer { vm.tearDown() }
        try fullBackup(vm)
        try incrementalBackup(vm)
        try deleteCheckpoints(vm)
    }

    /// Writes 0xab at [1M, 1M+128k), takes a full backup creating cp1, and reads it over NBD.
    func fullBackup(_ vm: TestDomain) throws {
        try guestWrite(vm, "write -P 0xab 1M 128k")
        let socket = vm.path("full.sock")
        try vm.dom.backupBegin(backupXML: BackupXML.pull(socket: socket, scratch: vm.path("full.scratch")),
                               checkpointXML: BackupXML.checkpoint("cp1"))
        defer { try? vm.dom.abortJob() }
        #expect(try vm.dom.hasActiveJob())
        #expect(try vm.dom.backupXML().contains("exportname='vda'"))

        let nbd = try NBDConnection(unixSocket: socket, exportName: "vda", metaContexts: [NBDContext.baseAllocation])
        defer { nbd.close() }
        #expect(nbd.size == TestDomain.diskSize)
        #expect(nbd.isReadOnly)
        #expect(nbd.maxRequest == 32 << 20)
        #expect(nbd.supportsContext(NBDContext.baseAllocation))
        #expect(!nbd.supportsContext(NBDContext.dirtyBitmap("backup-vda")))

        let extents = try nbd.blockStatus(context: NBDContext.baseAllocation, offset: 0, length: nbd.size)
        expectCovers(extents, 0..<nbd.size)
        let written = Self.mib..<(Self.mib + 128 << 10)
        for extent in extents {
            let range = extent.offset..<(extent.offset + extent.length)
            if range.overlaps(written) {
                #expect(range == written && extent.flags & AllocationFlags.hole == 0, "\(extent)")
            } else {
                #expect(extent.flags & (AllocationFlags.hole | AllocationFlags.zero) != 0, "\(extent)")
            }
        }

        var buffer = [UInt8](repeating: 0, count: 192 << 10)   // 32k of zeroes, then 128k 0xab, 32k zeroes
        try buffer.withUnsafeMutableBytes { try nbd.read(into: $0, at: Self.mib - (32 << 10)) }
        #expect(buffer[0..<(32 << 10)].allSatisfy { $0 == 0 })
        #expect(buffer[(32 << 10)..<(160 << 10)].allSatisfy { $0 == 0xab })
        #expect(buffer[(160 << 10)...].allSatisfy { $0 == 0 })

        nbd.close()
        try vm.dom.abortJob()
        try waitForNoJob(vm.dom)
        #expect(try vm.dom.checkpoints().map(\.name) == ["cp1"])
    }

    /// Writes 64k at 8M, backs up incrementally since cp1 (creating cp2): only that range is dirty.
    func incrementalBackup(_ vm: TestDomain) throws {
        try guestWrite(vm, "write -P 0xcd 8M 64k")
        let socket = vm.path("inc.sock")
        try vm.dom.backupBegin(backupXML: BackupXML.pull(socket: socket, scratch: vm.path("inc.scratch"), incrementalFrom: "cp1"),
                               checkpointXML: BackupXML.checkpoint("cp2"))
        defer { try? vm.dom.abortJob() }
        let jobXML = try vm.dom.backupXML()
        #expect(jobXML.contains("exportbitmap='backup-vda'"), "\(jobXML)")

        let dirtyContext = NBDContext.dirtyBitmap("backup-vda")
        let nbd = try NBDConnection(unixSocket: socket, exportName: "vda",
                                    metaContexts: [NBDContext.baseAllocation, dirtyContext])
        defer { nbd.close() }
        #expect(nbd.supportsContext(dirtyContext))
        let extents = try nbd.blockStatus(context: dirtyContext, offset: 0, length: nbd.size)
        let dirtyStart = 8 * Self.mib, dirtyEnd = 8 * Self.mib + (64 << 10)
        #expect(extents.map { [$0.offset, $0.length, UInt64($0.flags)] } == [
            [0, dirtyStart, 0],
            [dirtyStart, 64 << 10, 1],
            [dirtyEnd, nbd.size - dirtyEnd, 0],
        ])
        // A sub-range query starting mid-extent is clamped to the range asked for.
        let part = try nbd.blockStatus(context: dirtyContext, offset: dirtyStart - 4096, length: 8192)
        #expect(part.map { [$0.offset, $0.length, UInt64($0.flags)] } == [[dirtyStart - 4096, 4096, 0], [dirtyStart, 4096, 1]])

        nbd.close()
        try vm.dom.abortJob()
        try waitForNoJob(vm.dom)
        #expect(try vm.dom.checkpoints().map(\.name) == ["cp1", "cp2"])
        #expect(try vm.dom.checkpoint(named: "cp2").xml().contains("<parent>"))
    }

    /// Deletes cp2 with its bitmap, then cp1's metadata only.
    func deleteCheckpoints(_ vm: TestDomain) throws {
        try vm.dom.checkpoint(named: "cp2").delete(metadataOnly: false)
        #expect(try vm.dom.checkpoints().map(\.name) == ["cp1"])
        try vm.dom.checkpoint(named: "cp1").delete(metadataOnly: true)
        #expect(try vm.dom.checkpoints().isEmpty)
        let error = #expect(throws: LibvirtError.self) { _ = try vm.dom.checkpoint(named: "cp1") }
        #expect(error?.code == LibvirtError.noDomainCheckpoint)
    }

    /// Writes into the running guest's disk through HMP qemu-io; an empty reply means success.
    func guestWrite(_ vm: TestDomain, _ command: String) throws {
        let reply = try vm.dom.qemuMonitorCommand(hmp: "qemu-io -d virtio-disk0/virtio-backend \"\(command)\"")
        #expect(reply.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "qemu-io replied: \(reply)")
    }

    func expectCovers(_ extents: [Extent], _ range: Range<UInt64>) {
        var cursor = range.lowerBound
        for extent in extents {
            #expect(extent.offset == cursor && extent.length > 0)
            cursor = extent.offset + extent.length
        }
        #expect(cursor == range.upperBound)
    }

    /// libvirt ends an aborted pull job promptly, but give it a moment before the next one.
    func waitForNoJob(_ dom: LibvirtDomain) throws {
        for _ in 0..<100 where try dom.hasActiveJob() { usleep(50_000) }
        #expect(try !dom.hasActiveJob())
    }
}
