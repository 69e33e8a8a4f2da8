import Foundation
import Yams

/// The `immutable:` key: every point the policy's jobs write is immutable for that long (S3
/// Object Lock; the store must have it, else the job fails with a clear error).
extension PolicyParser {
    mutating func immutable(_ node: Node) -> TimeInterval? {
        reader.value(node, "immutable", expected: "a duration such as 30d", Policy.immutablePeriod)
    }
}

extension Policy {
    /// The longest period accepted: a typo of a few zeros would lock storage for centuries.
    public static let longestImmutablePeriod: TimeInterval = 3_650 * 86_400

    /// Reads an immutability period (`30d`, `12h`, `90s`): the grammar of the policy's durations,
    /// more than zero and at most ten years. `backup --immutable-for` reads the same way.
    public static func immutablePeriod(_ text: String) throws(PolicyValueError) -> TimeInterval {
        let period = try Units.duration(text)
        guard period > 0 else { throw PolicyValueError("must be longer than 0s") }
        guard period <= longestImmutablePeriod else {
            throw PolicyValueError("'\(text)' is longer than ten years (3650d); an object lock cannot be shortened")
        }
        return period
    }
}
