import Foundation
import Testing
import VBackupPolicy

/// Which VMs a policy selects, and which policy wins a VM when several do.
@Suite("Selection")
struct SelectionTests {
    static func vm(_ name: String, uuid: String = "00000000-0000-4000-8000-000000000000", tags: [String] = [], host: String = "hv-1") -> VMFacts {
        VMFacts(name: name, uuid: uuid, tags: tags, host: host)
    }

    @Test("vms: fnmatch globs on the name, or a UUID in any case")
    func nameGlobs() throws {
        let selected = try policy("""
            select:
              vms: ["web-*", "db?", "cache[0-9]", "app[!x]", 6F1C2D3E-0000-4000-8000-000000000001]
            """)
        for name in ["web-1", "web-", "db1", "cache7", "appy"] {
            #expect(selected.selects(Self.vm(name)), "\(name)")
        }
        for name in ["web", "db12", "cachex", "appx", "xweb-1", "Web-1"] {
            #expect(!selected.selects(Self.vm(name)), "\(name)")
        }
        #expect(selected.selects(Self.vm("renamed", uuid: "6f1c2d3e-0000-4000-8000-000000000001")))
    }

    @Test("tags: at least one of them; hosts: host globs; exclude wins over everything")
    func tagsHostsExclude() throws {
        let selected = try policy("""
            select:
              tags: [prod, critical]
              hosts: ["hv-*"]
              exclude: ["*-scratch"]
            """)
        #expect(selected.selects(Self.vm("web1", tags: ["critical"])))
        #expect(selected.selects(Self.vm("web1", tags: ["dev", "prod"])))
        #expect(!selected.selects(Self.vm("web1", tags: ["dev"])), "no tag in common")
        #expect(!selected.selects(Self.vm("web1")), "no tags at all")
        #expect(!selected.selects(Self.vm("web1", tags: ["prod"], host: "lab-1")), "wrong host")
        #expect(!selected.selects(Self.vm("build-scratch", tags: ["prod"])), "excluded")
    }

    @Test("glob details: ranges, escapes, runs of stars")
    func globDetails() throws {
        let selected = try policy(#"select: {vms: ["a\\*b", "x**y", "[]z]1", "[a-c-]2"]}"#)
        #expect(selected.selects(Self.vm("a*b")) && !selected.selects(Self.vm("aXb")), "an escaped star is literal")
        #expect(selected.selects(Self.vm("xy")) && selected.selects(Self.vm("x-long-y")))
        #expect(selected.selects(Self.vm("]1")) && selected.selects(Self.vm("z1")), "] first in a set is a member")
        #expect(selected.selects(Self.vm("b2")) && selected.selects(Self.vm("-2")) && !selected.selects(Self.vm("d2")))
    }

    @Test("the selecting policy with the highest priority wins; a tie goes to the first name; the rest are conflicts")
    func precedence() throws {
        let everything = try policy("priority: 50\n", name: "everything")
        let critical = try policy("priority: 80\nselect: {tags: [critical]}\n", name: "critical")
        let webA = try policy("priority: 60\nselect: {vms: [\"web*\"]}\n", name: "web-a")
        let webB = try policy("priority: 60\nselect: {vms: [\"web*\"]}\n", name: "web-b")
        let set = PolicySet(policies: [everything, webB, critical, webA])
        #expect(set.policy(for: Self.vm("db1"))?.name == "everything")
        #expect(set.conflicts(for: Self.vm("db1")).isEmpty)
        #expect(set.policy(for: Self.vm("web1"))?.name == "web-a")
        #expect(set.conflicts(for: Self.vm("web1")).map(\.name) == ["web-b", "everything"])
        #expect(set.policy(for: Self.vm("web1", tags: ["critical"]))?.name == "critical")
        #expect(PolicySet(policies: [webA]).policy(for: Self.vm("db1")) == nil)
    }

    @Test("a folder: every *.yaml and *.yml file in name order; errors do not hide the valid files")
    func folder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("policies-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let files = [
            "a.yaml": "version: 1\nname: first\n",
            "b.yml": "version: 1\nname: second\n",
            "c.yaml": "version: 1\n\nname: first\n",
            "d.yaml": "version: 1\nname: broken\npriority: 200\n",
            "notes.txt": "not a policy",
        ]
        for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let set = PolicySet.load(directory: folder.path)
        #expect(set.policies.map(\.name) == ["first", "second"])
        #expect(set.errors.map(\.description) == [
            "policy file \(folder.path)/c.yaml:3: name: 'first' is already the name of the policy in \(folder.path)/a.yaml:2; names must be unique",
            "policy file \(folder.path)/d.yaml:3: priority: must be a whole number from 0 to 100, not 200",
        ])
        let missing = PolicySet.load(directory: "/nonexistent/policies")
        #expect(missing.policies.isEmpty && missing.errors.map(\.description) == ["policy file /nonexistent/policies: policy folder does not exist"])
        let listed = PolicySet.load(files: [folder.appendingPathComponent("b.yml").path, "/nonexistent/x.yaml"])
        #expect(listed.policies.map(\.name) == ["second"] && listed.errors.map(\.message) == ["does not exist"])
    }
}
