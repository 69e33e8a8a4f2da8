/// A version number as libvirt encodes both its own and the hypervisor's:
/// major * 1,000,000 + minor * 1,000 + release (9.0.0 is 9000000; QEMU 7.2.0 is 7002000).
public struct LibvirtVersion: Sendable, Comparable, CustomStringConvertible {
    public let major: UInt64
    public let minor: UInt64
    public let release: UInt64

    public init(major: UInt64, minor: UInt64, release: UInt64) {
        self.major = major
        self.minor = minor
        self.release = release
    }

    init(encoded: UInt64) {
        self.init(major: encoded / 1_000_000, minor: encoded / 1_000 % 1_000, release: encoded % 1_000)
    }

    public var description: String { "\(major).\(minor).\(release)" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.major, a.minor, a.release) < (b.major, b.minor, b.release)
    }
}
