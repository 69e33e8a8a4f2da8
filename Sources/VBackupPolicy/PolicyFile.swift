import Foundation
import Yams

/// A policy file (YAML): which VMs a policy covers and how long their points are kept.
///
/// ```yaml
/// name: default            # required
/// vms: [web1, db1]         # optional: VM names or UUIDs; absent = every VM
/// retention:               # optional here; `prune` needs at least one keep rule from
///   keep-last: 3           # the file or its flags
///   keep-daily: 7
///   keep-weekly: 4
///   keep-monthly: 12
///   keep-yearly: 2
/// ```
///
/// Unknown keys are errors at every level, so a misspelt rule never silently keeps everything
/// or nothing. Schedules, targets and throttles join this struct later (issue 4).
public struct PolicyFile: Codable, Hashable, Sendable {
    public var name: String
    /// VM names or UUIDs; nil selects every VM.
    public var vms: [String]?
    public var retention: RetentionRules

    public init(name: String, vms: [String]? = nil, retention: RetentionRules = RetentionRules()) {
        self.name = name
        self.vms = vms
        self.retention = retention
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, vms, retention
    }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, allowed: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        if name.trimmingCharacters(in: .whitespaces).isEmpty {
            throw DecodingError.dataCorruptedError(forKey: .name, in: container, debugDescription: "must not be empty")
        }
        vms = try container.decodeIfPresent([String].self, forKey: .vms)
        if let vms, vms.isEmpty {
            throw DecodingError.dataCorruptedError(
                forKey: .vms, in: container, debugDescription: "names no VM (leave it out to select every VM)")
        }
        if let blank = vms?.first(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw DecodingError.dataCorruptedError(
                forKey: .vms, in: container, debugDescription: "holds an empty VM name '\(blank)'")
        }
        retention = try container.decodeIfPresent(RetentionRules.self, forKey: .retention) ?? RetentionRules()
    }

    /// Whether the policy covers the VM with this name and UUID.
    public func selects(vmName: String, vmUUID: String) -> Bool {
        guard let vms else { return true }
        return vms.contains { $0 == vmName || $0.lowercased() == vmUUID.lowercased() }
    }

    /// Reads and parses a policy file; errors name the file (and the line, where known).
    public static func load(path: String) throws -> PolicyFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw PolicyFileError(file: path, line: nil, message: reason)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PolicyFileError(file: path, line: nil, message: "is not UTF-8 text")
        }
        return try parse(text, file: path)
    }

    /// Parses the text of a policy file; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws -> PolicyFile {
        let node: Node
        do {
            guard let composed = try Yams.compose(yaml: text) else {
                throw PolicyFileError(file: file, line: nil, message: "is empty (a policy needs at least 'name:')")
            }
            node = composed
        } catch let error as YamlError {
            throw PolicyFileError(file: file, yamlError: error)
        }
        do {
            return try YAMLDecoder().decode(PolicyFile.self, from: node)
        } catch let error as DecodingError {
            throw PolicyFileError(file: file, decodingError: error, root: node)
        } catch let error as YamlError {
            throw PolicyFileError(file: file, yamlError: error)
        }
    }
}
