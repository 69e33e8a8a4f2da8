import Foundation
import LibvirtClient
import Logging

/// The agent's libvirt connection, kept alive: lifecycle events mark the VM list stale and
/// wake the agent; when libvirtd goes away (restart, crash) the link notices through the
/// keepalive close callback and the agent reconnects on a later tick.
struct LibvirtLink {
    private(set) var connection: LibvirtConnection?
    private(set) var host = ProcessInfo.processInfo.hostName
    private(set) var problem: String? = "not connected yet"
    private var subscription: EventSubscription?
    private var lastAttempt = Date.distantPast
    private let closed = ClosedFlag()

    var description: String { problem ?? "connected" }

    /// Connects (at most every 5 s while failing) and subscribes to lifecycle events.
    mutating func ensure(uri: String, inventory: VMInventory, wake: @escaping @Sendable () -> Void, logger: Logger) {
        if closed.take() {
            subscription = nil
            connection = nil
            problem = "libvirtd closed the connection"
            logger.warning("lost the libvirt connection; reconnecting")
        }
        guard connection == nil, Date().timeIntervalSince(lastAttempt) >= 5 else { return }
        lastAttempt = Date()
        do {
            let connection = try LibvirtConnection(uri: uri, events: true)
            subscription = try connection.watchLifecycle { _ in
                inventory.markStale()
                wake()
            }
            let flag = closed
            try connection.onClose { _ in
                flag.set()
                wake()
            }
            host = (try? connection.hostname) ?? host
            self.connection = connection
            problem = nil
            inventory.markStale()
            logger.info("connected to libvirt", metadata: ["uri": "\(uri)", "host": "\(host)"])
        } catch {
            problem = "\(error)"
            logger.error("cannot connect to libvirt", metadata: ["uri": "\(uri)", "error": "\(error)"])
        }
    }
}

/// Set from libvirt's event thread, taken by the agent's tick.
final class ClosedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    func take() -> Bool { lock.withLock { defer { value = false }; return value } }
}
