import CLibvirt
import Foundation

/// libvirt's default event loop, run on one dedicated thread for the life of the process.
///
/// Events (lifecycle, keepalive, connection close) only reach a connection whose socket libvirt
/// watched from the moment it was opened, and libvirt watches sockets only through an event
/// implementation registered *before* `virConnectOpen`. So the order matters and is easy to get
/// wrong: call `start()` first (or open the connection with `LibvirtConnection(uri:events: true)`,
/// which does it), then open connections. A connection opened before the loop started refuses
/// `watchLifecycle` and `onClose` with a clear error rather than silently never firing.
///
/// The loop never stops: libvirt offers no way to unregister an event implementation, and a
/// stopped loop would strand every connection relying on it. Handlers run on this one thread,
/// one at a time, so they must return quickly (hand work to a queue or task).
public enum LibvirtEventLoop {
    /// Registers the default implementation (once per process) and starts its thread. Safe to
    /// call from any thread, any number of times; the first call decides the outcome.
    public static func start() throws {
        try registration.get()
    }

    /// Whether `start()` has succeeded; a connection opened now will receive events.
    public static var isRunning: Bool { running.value }

    private static let running = LockedFlag()

    /// Swift initializes a static `let` exactly once, thread-safely: that is the "once" here.
    private static let registration: Result<Void, LibvirtError> = {
        _ = libvirtInitialized
        guard virEventRegisterDefaultImpl() == 0 else {
            return .failure(lastLibvirtError("virEventRegisterDefaultImpl failed"))
        }
        let thread = Thread { runForever() }
        thread.name = "libvirt-events"
        thread.start()
        running.set()
        return .success(())
    }()

    /// One iteration waits for the next timer or file event and dispatches it. An iteration only
    /// fails on a broken poll(2); back off briefly then so a persistent failure cannot spin a core.
    private static func runForever() -> Never {
        while true {
            if virEventRunDefaultImpl() < 0 {
                virResetLastError()
                usleep(100_000)
            }
        }
    }
}

/// A Bool that is only ever set, readable from any thread.
final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var isSet = false

    var value: Bool { lock.withLock { isSet } }

    func set() { lock.withLock { isSet = true } }

    /// Sets the flag and says whether this call was the one that set it.
    func setFirst() -> Bool {
        lock.withLock {
            defer { isSet = true }
            return !isSet
        }
    }
}
