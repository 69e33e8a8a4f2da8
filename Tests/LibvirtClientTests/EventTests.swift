import Foundation
import LibvirtClient
import Testing

@Suite("Lifecycle events and connection loss, through libvirt's event loop")
struct EventTests {
    /// define → started → destroyed → undefined, each within 5 s with the right name and UUID;
    /// after cancel nothing more arrives, while a second subscription still sees events.
    ///
    /// libvirt 9.0 sends more than these: `resumed` just before `started` (QEMU starts paused),
    /// and `shutdown` (detail 2, "host") just before `stopped` on destroy. Hence waits by kind.
    @Test func lifecycleOfOneDomain() throws {
        try LibvirtEventLoop.start()
        try LibvirtEventLoop.start()   // idempotent
        let conn = try LibvirtConnection(uri: TestDomain.uri, events: true)
        #expect(conn.receivesEvents)
        let recorder = EventRecorder()
        let subscription = try conn.watchLifecycle { recorder.record($0) }
        defer { subscription.cancel() }

        let vm = try TestDomain(connection: conn)
        defer { vm.tearDown() }
        let uuid = vm.dom.uuid
        func expectNext(_ kind: DomainLifecycleEvent.Kind, detail: Int32) {
            let event = recorder.next(kind, for: vm.name)
            #expect(event == DomainLifecycleEvent(kind: kind, detail: detail, domainName: vm.name, domainUUID: uuid))
        }
        expectNext(.defined, detail: 0)    // VIR_DOMAIN_EVENT_DEFINED_ADDED
        expectNext(.started, detail: 0)    // VIR_DOMAIN_EVENT_STARTED_BOOTED
        try vm.dom.suspend()
        expectNext(.suspended, detail: 0)  // VIR_DOMAIN_EVENT_SUSPENDED_PAUSED
        try vm.dom.resume()
        expectNext(.resumed, detail: 0)    // VIR_DOMAIN_EVENT_RESUMED_UNPAUSED
        try vm.dom.destroy()
        expectNext(.stopped, detail: 1)    // VIR_DOMAIN_EVENT_STOPPED_DESTROYED
        try vm.dom.undefine(checkpointsMetadata: true, nvram: false)
        expectNext(.undefined, detail: 0)  // VIR_DOMAIN_EVENT_UNDEFINED_REMOVED

        subscription.cancel()
        subscription.cancel()   // idempotent
        let control = EventRecorder()
        let controlSubscription = try conn.watchLifecycle { control.record($0) }
        defer { controlSubscription.cancel() }
        let vm2 = try TestDomain(connection: conn)
        defer { vm2.tearDown() }
        #expect(control.next(.defined, for: vm2.name) != nil)
        #expect(control.next(.started, for: vm2.name) != nil)
        usleep(500_000)   // any straggler would have been dispatched by now
        #expect(recorder.all(for: vm2.name).isEmpty)
        #expect(recorder.all(for: vm.name).isEmpty)   // nothing after `undefined`
    }

    /// libvirtd going away is simulated, not done: the shared daemon serves other tests. The
    /// connection runs through `nc` (libvirt's `ext` transport), and killing `nc` is what the
    /// client sees when libvirtd exits: end of file on its socket.
    @Test func closeOnDaemonEOF() throws {
        let relay = try DaemonRelay()
        defer { relay.tearDown() }
        let conn = try LibvirtConnection(uri: relay.uri, events: true)
        #expect(try !conn.hostname.isEmpty)
        let closes = CloseRecorder()
        try conn.onClose { closes.record($0) }
        #expect(closes.first(timeout: 0.5) == nil)

        try relay.signal(SIGKILL)
        #expect(closes.first(timeout: 10) == .eof)
        #expect(throws: LibvirtError.self) { _ = try conn.hostname }
        // What the agent then does: open a new connection.
        #expect(try !LibvirtConnection(uri: TestDomain.uri, events: true).hostname.isEmpty)
        #expect(closes.count == 1)
    }

    /// A daemon that hangs (here: the relay stopped) is noticed by keepalive, not by EOF.
    @Test func closeOnKeepaliveTimeout() throws {
        let relay = try DaemonRelay()
        defer { relay.tearDown() }
        let conn = try LibvirtConnection(uri: relay.uri, events: true)
        let closes = CloseRecorder()
        try conn.onClose(keepAliveInterval: 1, keepAliveCount: 1) { closes.record($0) }
        // libvirt allows one close handler per connection.
        #expect(throws: LibvirtError.self) { try conn.onClose { _ in } }

        try relay.signal(SIGSTOP)
        let started = Date()
        #expect(closes.first(timeout: 15) == .keepalive)
        #expect(Date().timeIntervalSince(started) < 10)
    }

    /// libvirt's close callback and event registrations hold the connection: releasing a
    /// connection that has them must still close it (here: libvirt ends the relay process).
    @Test func releasingAWatchedConnectionClosesIt() throws {
        let relay = try DaemonRelay()
        defer { relay.tearDown() }
        do {
            let conn = try LibvirtConnection(uri: relay.uri, events: true)
            try conn.onClose { _ in }
            let subscription = try conn.watchLifecycle { _ in }
            subscription.cancel()
            #expect(relay.isRunning)
        }
        for _ in 0..<50 where relay.isRunning { usleep(100_000) }
        #expect(!relay.isRunning)
    }

    @Test func versions() throws {
        let conn = try LibvirtConnection(uri: TestDomain.uri)
        let libvirt = try conn.libvirtVersion, qemu = try conn.hypervisorVersion
        #expect(libvirt >= LibvirtVersion(major: 9, minor: 0, release: 0))
        let virsh = try shell("virsh", "-c", TestDomain.uri, "version")
        #expect(virsh.contains("Running hypervisor: QEMU \(qemu)"), "\(virsh)")
        #expect(virsh.contains("Using library: libvirt \(libvirt)"), "\(virsh)")
    }
}

/// A libvirt URI whose connection runs through an `nc` process this test can kill or stop:
/// libvirt's `ext` transport spawns `command` and speaks RPC over its stdin and stdout.
final class DaemonRelay {
    let dir: String
    let uri: String

    init() throws {
        dir = NSTemporaryDirectory() + "vbackup-relay-\(randomSuffix())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        let script = "\(dir)/relay.sh"
        try "#!/bin/sh\necho $$ > \(dir)/pid\nexec nc -U /run/libvirt/libvirt-sock\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        try shell("chmod", "+x", script)
        uri = "qemu+ext:///system?command=\(script)"
    }

    /// Signals the relay (the `nc` the script exec'd into), by the pid it recorded, once that
    /// pid is checked to still be this relay: libvirt reaps it when the connection closes, and
    /// the number may by then belong to another process.
    func signal(_ signal: Int32) throws {
        guard let pid = runningPID else {
            throw ShellError(command: "kill relay in \(dir)", status: -1, stderr: "the relay is not running")
        }
        guard kill(pid, signal) == 0 else { throw ShellError(command: "kill \(pid)", status: errno, stderr: "") }
    }

    var isRunning: Bool { runningPID != nil }

    /// The recorded pid, if a live (or stopped) process that is this relay's `nc` still has it.
    private var runningPID: pid_t? {
        guard let text = try? String(contentsOfFile: "\(dir)/pid", encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              let cmdline = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
              cmdline.hasPrefix("nc\0-U\0/run/libvirt/libvirt-sock"),
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              !stat.contains(") Z ")   // a zombie is dead, only not yet reaped
        else { return nil }
        return pid
    }

    /// Kills the relay if it still runs (a stopped one included), then removes its folder.
    func tearDown() {
        try? signal(SIGKILL)
        try? FileManager.default.removeItem(atPath: dir)
    }
}
