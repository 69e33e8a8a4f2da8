import FleetAPI
import Foundation
import Testing
@testable import VBackupAgent

/// The folder of the server's policies the agent runs on: only validated policies get in.
@Suite("Policy cache")
struct PolicyCacheTests {
    static func yaml(_ name: String, calendar: String = "*-*-* 01:00") -> String {
        "version: 1\nname: \(name)\nschedule:\n  - calendar: \"\(calendar)\"\n"
    }

    static func entry(_ name: String, _ version: Int, _ yaml: String? = nil) -> PolicyBundle.Entry {
        PolicyBundle.Entry(name: name, version: version, yaml: yaml ?? Self.yaml(name), sha256: "")
    }

    static func text(_ cache: PolicyCache, _ name: String) -> String? {
        FileManager.default.contents(atPath: cache.directory.appendingPathComponent("\(name).yaml").path)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    @Test("valid entries are written and their versions and the etag kept, also for the next agent")
    func valid() throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let cache = try PolicyCache(directory: folder)
        let outcome = try cache.apply(PolicyBundle(etag: "e1", policies: [Self.entry("nightly", 3), Self.entry("hourly", 1)]))
        #expect(outcome.written.sorted() == ["hourly", "nightly"] && outcome.changed && outcome.refused.isEmpty)
        #expect(Self.text(cache, "nightly") == Self.yaml("nightly"))
        let reopened = try PolicyCache(directory: folder)
        #expect(reopened.state == PolicyCache.State(etag: "e1", versions: ["nightly": 3, "hourly": 1], refused: [:]))
    }

    @Test("an invalid new version is refused with its errors; the previous file and version stay in force")
    func invalidKeepsLastGood() throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let cache = try PolicyCache(directory: folder)
        _ = try cache.apply(PolicyBundle(etag: "e1", policies: [Self.entry("nightly", 3)]))
        let broken = Self.yaml("nightly", calendar: "Fry 01:00")
        let outcome = try cache.apply(PolicyBundle(etag: "e2", policies: [Self.entry("nightly", 4, broken)]))
        #expect(!outcome.changed, "nothing to reload")
        #expect(outcome.refused["nightly"]?.count == 1)
        #expect(outcome.refused["nightly"]?.first?.hasPrefix("nightly v4: line 4: ") == true, "\(outcome.refused)")
        #expect(Self.text(cache, "nightly") == Self.yaml("nightly"))
        #expect(cache.state.versions == ["nightly": 3] && cache.state.etag == "e2")
        #expect(cache.state.refused == outcome.refused, "the refusal is remembered for status and reports")

        let fixed = try cache.apply(PolicyBundle(etag: "e3", policies: [Self.entry("nightly", 5, Self.yaml("nightly", calendar: "Fri 01:00"))]))
        #expect(fixed.written == ["nightly"] && fixed.refused.isEmpty && cache.state.refused.isEmpty)
        #expect(cache.state.versions == ["nightly": 5])
    }

    @Test("a policy never seen valid gets no file; a name that differs from the server's, or is no file name, is refused")
    func refusedNew() throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let cache = try PolicyCache(directory: folder)
        let outcome = try cache.apply(PolicyBundle(etag: "e1", policies: [
            Self.entry("broken", 1, "version: 1\nname: broken\nschedule: nightly\n"),
            Self.entry("renamed", 1, Self.yaml("other")),
            Self.entry("../escape", 1, Self.yaml("../escape")),
        ]))
        #expect(outcome.written.isEmpty && Set(outcome.refused.keys) == ["broken", "renamed", "../escape"])
        #expect(outcome.refused["renamed"] == ["renamed v1: the file says name: 'other', the server calls it 'renamed'"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [PolicyCache.stateFile])
        #expect(cache.state.versions.isEmpty)
    }

    @Test("a policy the bundle no longer holds is removed; an unchanged one is not rewritten")
    func removed() throws {
        let folder = try temporaryFolder()
        defer { remove(folder) }
        let cache = try PolicyCache(directory: folder)
        _ = try cache.apply(PolicyBundle(etag: "e1", policies: [Self.entry("nightly", 3), Self.entry("hourly", 1)]))
        let path = folder.appendingPathComponent("nightly.yaml").path
        let inode = try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int
        let outcome = try cache.apply(PolicyBundle(etag: "e2", policies: [Self.entry("nightly", 3)]))
        #expect(outcome.removed == ["hourly"] && outcome.written.isEmpty)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? Int == inode, "the file was left alone")
        #expect(Self.text(cache, "hourly") == nil && cache.state.versions == ["nightly": 3])
        let empty = try cache.apply(PolicyBundle(etag: "e3", policies: []))
        #expect(empty.removed == ["nightly"] && cache.state.versions.isEmpty && cache.state.etag == "e3")
    }
}
