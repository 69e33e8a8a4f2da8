import Foundation
import LibvirtClient
import Testing

@Suite("vbackup tags in the domain's metadata")
struct MetadataTests {
    static let element = "<vbackup:backup xmlns:vbackup=\"https://vbackup.dev/xmlns/domain/1\">"

    /// Absent → []; set on a running persistent domain → the same tags live and in the config,
    /// visible in `virsh dumpxml`, kept through `virsh define` of that XML and a restart;
    /// set [] → the element is gone.
    @Test func setReadRedefineClear() throws {
        let vm = try TestDomain()
        defer { vm.tearDown() }
        #expect(try vm.dom.vbackupTags() == [])
        #expect(try vm.dom.vbackupTags(inactive: true) == [])

        let tags = ["prod", "db", "a&b <c> \"d\" é"]
        try vm.dom.setVbackupTags(tags + [" prod ", ""])   // repeats and blanks are dropped
        #expect(try vm.dom.vbackupTags() == tags)
        #expect(try vm.dom.vbackupTags(inactive: true) == tags)
        let live = try shell("virsh", "-c", TestDomain.uri, "dumpxml", vm.name)
        #expect(live.contains(Self.element) && live.contains("<vbackup:tag>a&amp;b &lt;c&gt; \"d\" é</vbackup:tag>"), "\(live)")

        // Redefine from the XML libvirt itself printed, then boot from that definition.
        let file = "\(vm.imageDir)/redefine.xml"
        try shell("virsh", "-c", TestDomain.uri, "dumpxml", "--inactive", vm.name).write(toFile: file, atomically: true, encoding: .utf8)
        try shell("virsh", "-c", TestDomain.uri, "define", file)
        try vm.dom.destroy()
        try vm.dom.start()
        let again = try vm.connection.lookupDomain(vm.name)
        #expect(try again.vbackupTags() == tags)
        #expect(try again.vbackupTags(inactive: true) == tags)

        try again.setVbackupTags(["db"])
        #expect(try again.vbackupTags() == ["db"] && again.vbackupTags(inactive: true) == ["db"])
        try again.setVbackupTags([])
        #expect(try again.vbackupTags() == [] && again.vbackupTags(inactive: true) == [])
        #expect(try !again.xml().contains("vbackup:backup"))
    }

    /// A shut-off domain has only its persistent definition to write to.
    @Test func shutOffDomain() throws {
        let vm = try TestDomain()
        defer { vm.tearDown() }
        try vm.dom.destroy()
        try vm.dom.setVbackupTags(["cold"])
        #expect(try vm.dom.vbackupTags() == ["cold"])
        try vm.dom.start()
        #expect(try vm.dom.vbackupTags() == ["cold"])
    }
}
