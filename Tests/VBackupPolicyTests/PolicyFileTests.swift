import Foundation
import Testing
import VBackupPolicy

@Suite("Policy files")
struct PolicyFileTests {
    /// The repository's `policies/` folder.
    static let policiesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("policies")

    static var exampleFiles: [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: policiesDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            .map { policiesDirectory.appendingPathComponent($0) }
    }

    @Test("policies/ holds example policy files")
    func examplesExist() {
        #expect(Self.exampleFiles.count >= 2, "looked in \(Self.policiesDirectory.path)")
    }

    @Test("every file in policies/ parses and keeps something", arguments: exampleFiles)
    func examplesParse(_ file: URL) throws {
        let policy = try PolicyFile.load(path: file.path)
        #expect(!policy.name.isEmpty)
        #expect(policy.retention.keepsSomething, "\(file.lastPathComponent) would refuse to prune")
    }

    @Test("the full schema parses into its values")
    func fullSchema() throws {
        let text = """
            name: long-term
            vms: [db1, 6f1c2d3e-0000-4000-8000-000000000001]
            retention:
              keep-last: 3
              keep-hourly: 0
              keep-daily: 7
              keep-weekly: 4
              keep-monthly: 12
              keep-yearly: 2
            """
        let policy = try PolicyFile.parse(text, file: "long-term.yaml")
        #expect(policy == PolicyFile(
            name: "long-term", vms: ["db1", "6f1c2d3e-0000-4000-8000-000000000001"],
            retention: RetentionRules(keepLast: 3, keepHourly: 0, keepDaily: 7, keepWeekly: 4, keepMonthly: 12, keepYearly: 2)))
        #expect(policy.selects(vmName: "db1", vmUUID: "x"))
        #expect(policy.selects(vmName: "renamed", vmUUID: "6F1C2D3E-0000-4000-8000-000000000001"))
        #expect(!policy.selects(vmName: "web1", vmUUID: "y"))
        #expect(try PolicyFile.parse("name: all\n", file: "all.yaml").selects(vmName: "any", vmUUID: "z"))
    }

    /// Parses `text` expecting a `PolicyFileError`; returns it.
    func failure(_ text: String, file: String = "bad.yaml") -> PolicyFileError? {
        do {
            _ = try PolicyFile.parse(text, file: file)
            Issue.record("parsed although it should not: \(text)")
            return nil
        } catch let error as PolicyFileError {
            #expect(!error.description.contains("\n"), "one line: \(error)")
            #expect(error.description.contains(file))
            return error
        } catch {
            Issue.record("not a PolicyFileError: \(error)")
            return nil
        }
    }

    @Test("an unknown key is an error naming the key, the file and the line")
    func unknownKey() throws {
        let nested = try #require(failure("name: x\nretention:\n  keep-last: 2\n  keep-dayly: 7\n", file: "typo.yaml"))
        #expect(nested.line == 4)
        #expect(nested.message.contains("unknown key 'keep-dayly'"), "\(nested)")
        #expect(nested.description.hasPrefix("policy file typo.yaml:4: retention.keep-dayly: unknown key"), "\(nested)")
        let top = try #require(failure("name: x\nretension:\n  keep-last: 2\n"))
        #expect(top.line == 2)
        #expect(top.message.contains("unknown key 'retension'"), "\(top)")
    }

    @Test("a negative count is an error naming the rule, the file and the line")
    func negativeNumber() throws {
        let error = try #require(failure("name: x\nretention:\n  keep-daily: -1\n"))
        #expect(error.line == 3)
        #expect(error.message == "retention.keep-daily: must be a non-negative integer, not -1")
    }

    @Test("a value of the wrong type is an error saying what was expected")
    func wrongType() throws {
        let word = try #require(failure("name: x\nretention:\n  keep-daily: seven\n"))
        #expect(word.line == 3)
        #expect(word.message.contains("retention.keep-daily: expected a non-negative integer"), "\(word)")
        let scalar = try #require(failure("name: x\nretention: 7\n"))
        #expect(scalar.message.contains("retention"), "\(scalar)")
        let list = try #require(failure("name: x\nvms: web1\n"))
        #expect(list.message.contains("vms"), "\(list)")
    }

    @Test("bad YAML is an error naming the file and the line")
    func badYAML() throws {
        let error = try #require(failure("name: x\nretention:\n  keep-last: [1, 2\n"))
        #expect(error.message.hasPrefix("invalid YAML"), "\(error)")
        #expect(error.line != nil)
        let duplicate = try #require(failure("name: x\nretention:\n  keep-last: 1\n  keep-last: 2\n"))
        #expect(duplicate.message.contains("duplicate key 'keep-last'"), "\(duplicate)")
    }

    @Test("a missing name, an empty vms list and an empty file are errors")
    func missingPieces() throws {
        let noName = try #require(failure("retention:\n  keep-last: 1\n"))
        #expect(noName.message == "missing required key 'name'")
        let noVMs = try #require(failure("name: x\nvms: []\n"))
        #expect(noVMs.message.contains("vms: names no VM"), "\(noVMs)")
        let empty = try #require(failure(""))
        #expect(empty.message.contains("empty"))
    }

    @Test("a file that does not exist is an error naming it")
    func missingFile() {
        #expect(throws: PolicyFileError(file: "/nonexistent/policy.yaml", line: nil, message: "does not exist")) {
            try PolicyFile.load(path: "/nonexistent/policy.yaml")
        }
    }
}
