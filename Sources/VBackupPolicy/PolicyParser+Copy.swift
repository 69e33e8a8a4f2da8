import Foundation
import Yams

/// The `copy:` section: a calendar with the rules of a schedule entry, the target store and
/// how to reach it, and how long the copies are immutable there.
extension PolicyParser {
    static let copyKeys = timingKeys + ["to", "bandwidth", "vms", "key-file", "passphrase-file", "immutable"]

    mutating func copy(_ node: Node, policy: Policy) -> CopyPolicy? {
        guard let fields = reader.fields(node, path: "copy", known: Self.copyKeys, required: ["calendar", "to"]) else { return nil }
        let timing = timing(fields)
        let target = reader.value(fields["to"], fields.path("to"), expected: "a store path or URL") {
            (text: String) throws(PolicyValueError) in try Self.copyTarget(text, source: policy.store)
        }
        let bandwidth = reader.value(fields["bandwidth"], fields.path("bandwidth"), expected: Units.rateHelp, Units.bandwidth)
        let vms = reader.list(fields["vms"], fields.path("vms"), ifEmpty: "names no VM (leave it out to copy every VM of the policy)") {
            (text: String) throws(PolicyValueError) in try VMPattern(text)
        }
        let absolute = { (text: String) throws(PolicyValueError) -> String in
            guard text.hasPrefix("/") else { throw PolicyValueError("'\(text)' must be an absolute path (the agent has no working folder)") }
            return text
        }
        let keyFile = reader.value(fields["key-file"], fields.path("key-file"), expected: "the absolute path of a key file", absolute)
        let passphraseFile = reader.value(fields["passphrase-file"], fields.path("passphrase-file"),
                                          expected: "the absolute path of a file holding the passphrase", absolute)
        let immutableFor = reader.value(fields["immutable"], fields.path("immutable"), expected: "a duration such as 30d",
                                        Policy.immutablePeriod)
        guard let timing, let target else { return nil }
        return CopyPolicy(schedule: timing.schedule(mode: .incremental, policyName: policy.name, index: Schedule.copyIndex),
                          target: target, bandwidth: bandwidth ?? .unlimited, vms: vms,
                          keyFile: keyFile, passphraseFile: passphraseFile, immutableFor: immutableFor)
    }

    /// An absolute path or a URL, and not the policy's own store.
    static func copyTarget(_ text: String, source: String?) throws(PolicyValueError) -> String {
        guard text.hasPrefix("/") || text.contains("://") else {
            throw PolicyValueError("'\(text)' must be an absolute path or a URL such as s3://bucket/prefix (the agent has no working folder)")
        }
        if let source, Self.sameLocation(text, source) {
            throw PolicyValueError("'\(text)' is the policy's own store: a copy must go to another store")
        }
        return text
    }

    private static func sameLocation(_ a: String, _ b: String) -> Bool {
        func plain(_ text: String) -> String {
            var text = text.hasPrefix("file://") ? String(text.dropFirst("file://".count)) : text
            while text.count > 1 && text.hasSuffix("/") { text.removeLast() }
            return text
        }
        return plain(a) == plain(b)
    }
}
