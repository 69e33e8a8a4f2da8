/// The key grammar of the adapter contract, which every adapter enforces before a key becomes
/// a path or an object name: `/`-separated segments of `[A-Za-z0-9._-]`, no empty, `.` or `..`
/// segments (no key can escape a root), and no segment starting with `reservedPrefix` (the local
/// adapter's in-flight files). A backend that would accept more (S3 takes almost anything) is
/// still held to it, so a store stays portable between adapters.
public enum StorageKey {
    /// Names adapters may use for their own in-flight objects; never a key segment.
    public static let reservedPrefix = ".tmp-"

    public static func validate(_ key: String) throws {
        guard !key.isEmpty else { throw invalid(key, "empty key") }
        for segment in key.split(separator: "/", omittingEmptySubsequences: false) {
            try validate(segment: segment, of: key)
        }
    }

    /// A listing prefix may stop in the middle of a segment (`points/ab`), and may be empty.
    public static func validatePrefix(_ prefix: String) throws {
        if prefix.isEmpty { return }
        var segments = prefix.split(separator: "/", omittingEmptySubsequences: false)
        let last = segments.removeLast()
        for segment in segments { try validate(segment: segment, of: prefix) }
        if !last.isEmpty { try validateCharacters(last, of: prefix) }
    }

    /// Why `segment` is not a valid key segment, or nil when it is (e.g. for a URL's prefix).
    public static func problem(segment: Substring) -> String? {
        do { try validate(segment: segment, of: String(segment)) } catch StorageError.io(_, let message) {
            return message.replacingOccurrences(of: "invalid key: ", with: "")
        } catch { return "\(error)" }
        return nil
    }

    private static func validate(segment: Substring, of key: String) throws {
        guard !segment.isEmpty else { throw invalid(key, "empty path segment") }
        guard segment != "." && segment != ".." else { throw invalid(key, "'\(segment)' segment") }
        guard !segment.hasPrefix(reservedPrefix) else { throw invalid(key, "reserved '\(reservedPrefix)' name") }
        try validateCharacters(segment, of: key)
    }

    private static func validateCharacters(_ segment: Substring, of key: String) throws {
        let allowed = segment.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
        guard allowed else { throw invalid(key, "characters outside [A-Za-z0-9._-]") }
    }

    private static func invalid(_ key: String, _ why: String) -> StorageError {
        .io(key: key, message: "invalid key: \(why)")
    }
}
