import CLibvirt

/// Calls that reach into the guest (agent) or QEMU itself (monitor).
extension LibvirtDomain {
    /// Freezes all guest filesystems through the QEMU guest agent; returns how many froze.
    /// Without an agent libvirt fails at once ("QEMU guest agent is not configured"), and the
    /// backup can only be crash-consistent.
    public func fsFreeze() throws -> Int32 {
        try check(virDomainFSFreeze(pointer, nil, 0, 0), "virDomainFSFreeze(\(name)) failed")
    }

    /// Thaws what `fsFreeze` froze; returns how many filesystems thawed.
    public func fsThaw() throws -> Int32 {
        try check(virDomainFSThaw(pointer, nil, 0, 0), "virDomainFSThaw(\(name)) failed")
    }

    /// Sends one JSON command to the QEMU guest agent (e.g. `{"execute":"guest-ping"}`) and
    /// returns its JSON reply, waiting at most `timeoutSeconds` (at least 1). Fails at once with
    /// `agentUnresponsive` when the agent is configured but not connected (the guest has not
    /// started it yet), and with `argumentUnsupported`/`operationInvalid`-like errors when the
    /// domain has no agent channel.
    public func guestAgentCommand(_ json: String, timeoutSeconds: Int32) throws -> String {
        try takeString(virDomainQemuAgentCommand(pointer, json, max(1, timeoutSeconds), 0),
                       "virDomainQemuAgentCommand(\(name)) failed")
    }

    /// Runs an HMP command through libvirt-qemu, for tests and diagnostics only (libvirt marks
    /// the domain tainted). HMP reports command errors as reply text, not as a failure: callers
    /// must check the reply (e.g. `qemu-io` replies with nothing on success).
    public func qemuMonitorCommand(hmp: String) throws -> String {
        var reply: UnsafeMutablePointer<CChar>?
        let flags = VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP.rawValue
        try check(virDomainQemuMonitorCommand(pointer, hmp, &reply, flags), "virDomainQemuMonitorCommand(\(name)) failed")
        return try takeString(reply, "virDomainQemuMonitorCommand(\(name)) returned no reply")
    }
}
