import Foundation
import LibvirtClient
import Testing

@Suite("Disk I/O counters of running domains")
struct BlockStatsTests {
    /// A guest looping INT 13h writes and reads (`GuestDiskLoop`) moves the counters; the
    /// per-domain call and the bulk one agree; a stopped domain drops out of the bulk one.
    @Test func guestIOMovesCounters() throws {
        let vm = try TestDomain(bootSector: GuestDiskLoop.bootSector)
        defer { vm.tearDown() }
        #expect(try vm.dom.isActive)

        var first = try vm.dom.blockStats("vda")
        for _ in 0..<100 where first.writeOps < 10 {   // SeaBIOS reaches the boot sector in about a second
            usleep(100_000)
            first = try vm.dom.blockStats("vda")
        }
        usleep(1_000_000)
        let second = try vm.dom.blockStats("vda")
        let latency = second.latency(since: first)
        #expect(second.writeOps > first.writeOps && second.readOps > first.readOps, "\(first) → \(second)")
        #expect(latency.ops == (second.readOps - first.readOps) + (second.writeOps - first.writeOps))
        #expect((latency.readMs ?? 0) > 0 && (latency.writeMs ?? 0) > 0, "\(latency)")
        // Every request of the loop moves 8 sectors; SeaBIOS's one MBR read (512 bytes) is the exception.
        #expect(second.writeBytes == second.writeOps * GuestDiskLoop.bytesPerRequest)
        #expect(second.readBytes == 512 + (second.readOps - 1) * GuestDiskLoop.bytesPerRequest)
        #expect(second.flushOps == 0)   // BIOS disk services never flush

        // The bulk call does not wait (NOWAIT): while another client (an agent test's throttle
        // samples every running domain each second) queries this domain, it comes back without
        // counters for that instant. Asked again, it has them.
        var all = try vm.connection.allBlockStats()
        for _ in 0..<20 where (all[vm.dom.uuid]?["vda"]?.writeOps ?? 0) < second.writeOps {
            usleep(50_000)
            all = try vm.connection.allBlockStats()
        }
        let bulk = try #require(all[vm.dom.uuid]?["vda"], "\(all)")
        #expect(all[vm.dom.uuid]?.count == 1)
        #expect(bulk.writeOps >= second.writeOps && bulk.readOps >= second.readOps)
        #expect(bulk.writeBytes == bulk.writeOps * GuestDiskLoop.bytesPerRequest)

        let error = #expect(throws: LibvirtError.self) { _ = try vm.dom.blockStats("vdz") }
        #expect(error?.message.contains("vdz") == true, "\(String(describing: error))")

        try vm.dom.destroy()
        #expect(try !vm.dom.isActive)
        #expect(try vm.connection.allBlockStats()[vm.dom.uuid] == nil)
    }

    /// What the agent must know: writes from the host side (HMP `qemu-io`, like a backup job's
    /// reads) bypass the guest device's accounting and leave its counters untouched.
    @Test func hostSideIOIsNotCounted() throws {
        let vm = try TestDomain()
        defer { vm.tearDown() }
        let reply = try vm.dom.qemuMonitorCommand(hmp: "qemu-io -d virtio-disk0/virtio-backend \"write -P 0xab 0 4M\"")
        #expect(reply.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "qemu-io replied: \(reply)")
        let stats = try vm.dom.blockStats("vda")
        #expect(stats.writeOps == 0 && stats.writeBytes == 0, "\(stats)")
    }
}

@Suite("Latency arithmetic over two samples")
struct BlockStatsLatencyTests {
    let earlier = BlockStats(readOps: 10, readBytes: 40960, readTimeNs: 20_000_000,
                             writeOps: 5, writeBytes: 20480, writeTimeNs: 50_000_000,
                             flushOps: 2, flushTimeNs: 1_000_000)

    @Test func averagePerOperation() {
        var later = earlier
        later.readOps += 4
        later.readTimeNs += 6_000_000   // 4 reads in 6 ms: 1.5 ms each
        later.flushOps += 1
        let latency = later.latency(since: earlier)
        #expect(latency.readMs == 1.5)
        #expect(latency.writeMs == nil)   // no write in the interval
        #expect(latency.ops == 5)
    }

    @Test func noOperations() {
        let latency = earlier.latency(since: earlier)
        #expect(latency.readMs == nil && latency.writeMs == nil && latency.ops == 0)
    }

    /// The domain restarted between samples: counters began again at zero.
    @Test func counterReset() {
        let later = BlockStats(readOps: 2, readTimeNs: 1_000_000, writeOps: 1, writeTimeNs: 4_000_000)
        let latency = later.latency(since: earlier)
        #expect(latency.readMs == 0.5)
        #expect(latency.writeMs == 4)
        #expect(latency.ops == 3)
    }
}
