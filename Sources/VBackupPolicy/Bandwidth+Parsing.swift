/// The policy files' rate syntax for command-line options (`vbackup copy --bandwidth`), so a
/// rate reads the same on the command line as in a policy.
extension Bandwidth {
    /// `50MiB/s`, `1.5 GB/s`, `off`.
    public init(parsing text: String) throws(PolicyValueError) {
        self = try Units.bandwidth(text)
    }
}
