import ArgumentParser
import Foundation
import VBackupPolicy

/// `--immutable-for` of `backup` and `copy`, read like the policy key `immutable:`.
enum ImmutableFor {
    /// Seconds, nil when the option is absent; a usage error naming the option otherwise.
    static func seconds(_ text: String?) throws -> TimeInterval? {
        guard let text else { return nil }
        do {
            return try Policy.immutablePeriod(text)
        } catch {
            throw ValidationError("--immutable-for: \(error.message)")
        }
    }
}
