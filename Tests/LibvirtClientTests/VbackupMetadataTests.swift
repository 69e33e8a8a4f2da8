@testable import LibvirtClient
import Testing

/// The element's text form, both directions, without libvirt.
@Suite("vbackup metadata element")
struct VbackupMetadataTests {
    @Test func rendersEscaped() {
        #expect(VbackupMetadata.element(tags: ["prod", "a&b<c>"]) == "<backup><tag>prod</tag><tag>a&amp;b&lt;c&gt;</tag></backup>")
    }

    /// libvirt returns the element pretty-printed, unprefixed in its namespace; the live XML
    /// shows it prefixed. Hand-edited forms (CDATA, a stray child) parse too.
    @Test(arguments: [
        "<backup>\n  <tag>prod</tag>\n  <tag>a&amp;b</tag>\n</backup>",
        "<vbackup:backup xmlns:vbackup=\"https://vbackup.dev/xmlns/domain/1\"><vbackup:tag>prod</vbackup:tag><vbackup:tag>a&amp;b</vbackup:tag></vbackup:backup>",
        "<backup xmlns=\"https://vbackup.dev/xmlns/domain/1\"><tag> prod </tag><note>x</note><tag><![CDATA[a&b]]></tag><tag>prod</tag></backup>",
    ])
    func parses(_ element: String) throws {
        #expect(try VbackupMetadata.tags(in: element) == ["prod", "a&b"])
    }

    @Test func empty() throws {
        #expect(try VbackupMetadata.tags(in: "<backup/>") == [])
        #expect(try VbackupMetadata.tags(in: "<backup>\n</backup>\n") == [])
        #expect(try VbackupMetadata.tags(in: "<backup><tag/><tag>  </tag></backup>") == [])
    }

    /// Each of these FoundationXML's XMLDocument "parses" on Linux (or, for "", crashes on).
    @Test(arguments: ["", "not xml", "<backup><tag>x</backup>", "<backup><tag>x</tag>", "<backup><tag>&bogus;</tag></backup>",
                      "<backup><tag>&#0;</tag></backup>", "<backup/><extra/>", "<backup><tag>x</tag></backup>junk", "junk<backup/>", "<backup><tag>&amp</tag></backup>"])
    func malformed(_ element: String) {
        let error = #expect(throws: LibvirtError.self) { _ = try VbackupMetadata.tags(in: element) }
        #expect(error?.code == LibvirtError.xmlError)
    }

    @Test func entitiesAndNesting() throws {
        let xml = "<?xml version=\"1.0\"?><!-- c --><backup><tag>&#233;&#xe9;&quot;&apos;</tag><group><tag>nested</tag></group><tag>a<b>c</b>d</tag></backup>"
        #expect(try VbackupMetadata.tags(in: xml) == ["éé\"'", "acd"])
    }
}
