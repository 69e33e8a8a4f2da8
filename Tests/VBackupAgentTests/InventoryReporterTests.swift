import FleetAPI
import Foundation
import Testing
@testable import VBackupAgent

/// When the host's inventory goes to the server: at start, on change, hourly.
@Suite("Inventory reports")
struct InventoryReporterTests {
    static func inventory(state: String = "running", tags: [String] = [], errors: [String] = []) -> InventoryReport {
        InventoryReport(agentVersion: "1", libvirtVersion: nil, vms: [
            VMReport(uuid: "u1", name: "web-1", state: state, tags: tags, disks: [DiskReport(target: "vda", source: "/v/web-1.qcow2", capacityBytes: nil)],
                     policy: "nightly", maximumPointAgeSeconds: 86_400),
        ], policyErrors: errors, policyVersions: ["nightly": 3])
    }

    @Test("the first is sent, an unchanged one is not, a change is, and an unchanged one after an hour is")
    func due() {
        var reporter = InventoryReporter(interval: 3_600)
        let start = Date(timeIntervalSince1970: 1_750_000_000)
        let broken = Self.inventory(state: "shut off", tags: ["critical"], errors: ["x v2: line 1: bad"])
        let sent = [
            (Self.inventory(), start),
            (Self.inventory(), start + 1),
            (Self.inventory(state: "shut off"), start + 2),
            (Self.inventory(state: "shut off", tags: ["critical"]), start + 3),
            (broken, start + 4),
            (broken, start + 3_603),
            (broken, start + 3_604),
        ].map { reporter.isDue($0.0, now: $0.1) }
        #expect(sent == [true, false, true, true, true, false, true])
    }
}
