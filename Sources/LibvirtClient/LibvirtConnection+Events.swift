import CLibvirt

/// Domain lifecycle events and connection-loss notices, delivered on `LibvirtEventLoop`'s thread.
extension LibvirtConnection {
    /// Calls `handler` for every lifecycle change of every domain on this connection, until the
    /// returned subscription is cancelled or released. Needs a connection opened after
    /// `LibvirtEventLoop.start()` (`receivesEvents`); throws `operationInvalid` otherwise.
    ///
    /// The handler runs on the event-loop thread, in the order libvirt sent the events; it must
    /// not block, or every other event and keepalive on every connection waits behind it.
    public func watchLifecycle(_ handler: @escaping @Sendable (DomainLifecycleEvent) -> Void) throws -> EventSubscription {
        try requireEvents("watchLifecycle")
        let box = Unmanaged.passRetained(Box(handler)).toOpaque()
        let callback: virConnectDomainEventCallback = lifecycleTrampoline
        // libvirt takes every event callback as the generic type and casts it back by event id,
        // as its VIR_DOMAIN_EVENT_CALLBACK macro does; both are plain C function pointers.
        let generic = unsafeBitCast(callback, to: virConnectDomainEventGenericCallback.self)
        let id = virConnectDomainEventRegisterAny(
            pointer, nil, Int32(VIR_DOMAIN_EVENT_ID_LIFECYCLE.rawValue), generic, box, releaseBox)
        guard id >= 0 else {
            // libvirt calls the free callback only for a registration it accepted.
            Unmanaged<AnyObject>.fromOpaque(box).release()
            throw lastLibvirtError("virConnectDomainEventRegisterAny(lifecycle) failed")
        }
        return EventSubscription(connection: self, callbackID: id)
    }

    /// Calls `handler` once when libvirt drops this connection: the daemon exited or restarted
    /// (`.eof`), stopped answering keepalives (`.keepalive`), or the socket failed (`.error`).
    /// The connection is dead afterwards; the agent should open a new one (and re-subscribe).
    ///
    /// Also turns on keepalive: a probe every `keepAliveInterval` seconds, the connection
    /// declared dead after `keepAliveCount` unanswered ones, so a hung daemon is noticed too.
    /// One handler per connection (libvirt refuses a second). Needs `receivesEvents`.
    public func onClose(keepAliveInterval: Int32 = 5, keepAliveCount: UInt32 = 3,
                        _ handler: @escaping @Sendable (ConnectionCloseReason) -> Void) throws {
        try requireEvents("onClose")
        // 1 means "keepalive unsupported" (a driver without a daemon, e.g. test:///): nothing to probe.
        try check(virConnectSetKeepAlive(pointer, keepAliveInterval, keepAliveCount), "virConnectSetKeepAlive failed")
        let box = Unmanaged.passRetained(Box(handler)).toOpaque()
        guard virConnectRegisterCloseCallback(pointer, closeTrampoline, box, releaseBox) == 0 else {
            Unmanaged<AnyObject>.fromOpaque(box).release()
            throw lastLibvirtError("virConnectRegisterCloseCallback failed")
        }
        closeHandlerRegistered.set()
    }

    func unregisterCloseHandler() {
        if virConnectUnregisterCloseCallback(pointer, closeTrampoline) < 0 { virResetLastError() }
    }

    private func requireEvents(_ what: String) throws {
        guard receivesEvents else {
            throw LibvirtError(
                code: LibvirtError.operationInvalid, domain: 0,
                message: "\(what) needs a connection opened after LibvirtEventLoop.start() "
                    + "(open it with LibvirtConnection(uri:events: true))")
        }
    }
}

/// A registered event callback. `cancel()` deregisters it; so does releasing the last reference,
/// which is why `watchLifecycle`'s result must be kept. Holds its connection open meanwhile.
public final class EventSubscription: @unchecked Sendable {
    private let connection: LibvirtConnection
    private let callbackID: Int32
    private let cancelled = LockedFlag()

    init(connection: LibvirtConnection, callbackID: Int32) {
        self.connection = connection
        self.callbackID = callbackID
    }

    deinit { cancel() }

    /// Stops delivery; idempotent. Once it returns, libvirt dispatches no further events to
    /// the handler (one already running on the loop thread may still finish). Deregistering
    /// only fails when the connection is already closed, and then no event can arrive anyway.
    public func cancel() {
        guard cancelled.setFirst() else { return }
        if virConnectDomainEventDeregisterAny(connection.pointer, callbackID) < 0 { virResetLastError() }
    }
}

/// The Swift handler, retained into libvirt's `opaque` pointer and released by its free callback.
private final class Box<Handler: Sendable>: Sendable {
    let handler: Handler
    init(_ handler: Handler) { self.handler = handler }
}

private typealias LifecycleBox = Box<@Sendable (DomainLifecycleEvent) -> Void>
private typealias CloseBox = Box<@Sendable (ConnectionCloseReason) -> Void>

/// libvirt's domain handle is borrowed for the call only: name and UUID are copied out here.
private func lifecycleTrampoline(_: virConnectPtr?, dom: virDomainPtr?, event: Int32, detail: Int32,
                                 opaque: UnsafeMutableRawPointer?) -> Int32 {
    guard let dom, let opaque else { return 0 }
    let name = virDomainGetName(dom).map { String(cString: $0) } ?? ""
    let uuid = uuidString(of: dom) ?? ""
    let box = Unmanaged<LifecycleBox>.fromOpaque(opaque).takeUnretainedValue()
    box.handler(DomainLifecycleEvent(kind: .init(event), detail: detail, domainName: name, domainUUID: uuid))
    return 0
}

private func closeTrampoline(_: virConnectPtr?, reason: Int32, opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    Unmanaged<CloseBox>.fromOpaque(opaque).takeUnretainedValue().handler(ConnectionCloseReason(reason))
}

/// The free callback for both kinds of box: a release does not need the concrete type.
private func releaseBox(_ opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    Unmanaged<AnyObject>.fromOpaque(opaque).release()
}
