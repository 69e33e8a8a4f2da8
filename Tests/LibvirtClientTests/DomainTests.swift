import Foundation
import LibvirtClient
import Testing

@Suite("LibvirtClient against the real libvirtd")
struct DomainTests {
    @Test func lookupStateAndXML() throws {
        let vm = try TestDomain()
        defer { vm.tearDown() }
        let conn = vm.connection

        #expect(try !conn.hostname.isEmpty)
        let byName = try conn.lookupDomain(vm.name)
        #expect(byName.name == vm.name)
        #expect(byName.uuid.count == 36)
        let byUUID = try conn.lookupDomain(byName.uuid)
        #expect(byUUID.name == vm.name)
        #expect(try conn.listAllDomains().contains { $0.uuid == byName.uuid })

        let error = #expect(throws: LibvirtError.self) { try conn.lookupDomain("vbackup-no-such-domain-\(randomSuffix())") }
        #expect(error?.code == LibvirtError.noDomain)

        let xml = try byName.xml()
        #expect(xml.contains(vm.imagePath))
        #expect(xml.contains("dev='vda'"))
        #expect(try byName.xml(inactive: true).contains(vm.imagePath))
        #expect(try byName.runState() == .running)
        #expect(try byName.isPersistent)
        #expect(try !byName.hasActiveJob())

        try byName.suspend()
        #expect(try byName.runState() == .paused)
        try byName.resume()
        #expect(try byName.runState() == .running)
    }

    @Test func unreachableDaemonGivesAClearError() {
        let error = #expect(throws: LibvirtError.self) {
            _ = try LibvirtConnection(uri: "qemu+unix:///system?socket=/nonexistent/libvirt-sock")
        }
        #expect(error?.message.contains("is libvirtd running?") == true)
    }

    @Test func guestAgentMissing() throws {
        let vm = try TestDomain()
        defer { vm.tearDown() }
        let error = #expect(throws: LibvirtError.self) { _ = try vm.dom.fsFreeze() }
        #expect(error?.message.localizedCaseInsensitiveContains("guest agent") == true, "\(String(describing: error))")
        // libvirt 9.0: "argument unsupported: QEMU guest agent is not configured".
        #expect(error?.code == LibvirtError.argumentUnsupported)
        #expect(throws: LibvirtError.self) { _ = try vm.dom.fsThaw() }
    }
}
