import CLibvirt

/// A domain changed state: libvirt's `VIR_DOMAIN_EVENT_ID_LIFECYCLE` event.
///
/// Name and UUID are copied out while libvirt's domain handle is valid (only during the
/// callback), so the event is plain data that may cross threads.
public struct DomainLifecycleEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case defined, undefined, started, suspended, resumed, stopped, shutdown, pmsuspended, crashed
        /// A kind newer than libvirt 9.0's list, passed through rather than dropped.
        case other(Int32)

        init(_ raw: Int32) {
            switch UInt32(bitPattern: raw) {
            case VIR_DOMAIN_EVENT_DEFINED.rawValue: self = .defined
            case VIR_DOMAIN_EVENT_UNDEFINED.rawValue: self = .undefined
            case VIR_DOMAIN_EVENT_STARTED.rawValue: self = .started
            case VIR_DOMAIN_EVENT_SUSPENDED.rawValue: self = .suspended
            case VIR_DOMAIN_EVENT_RESUMED.rawValue: self = .resumed
            case VIR_DOMAIN_EVENT_STOPPED.rawValue: self = .stopped
            case VIR_DOMAIN_EVENT_SHUTDOWN.rawValue: self = .shutdown
            case VIR_DOMAIN_EVENT_PMSUSPENDED.rawValue: self = .pmsuspended
            case VIR_DOMAIN_EVENT_CRASHED.rawValue: self = .crashed
            default: self = .other(raw)
            }
        }
    }

    public let kind: Kind
    /// The kind-specific reason, a `virDomainEvent*DetailType` value (e.g. for `.stopped`:
    /// 0 shutdown, 1 destroyed, 2 crashed, 3 migrated, 4 saved, 5 failed, 6 from snapshot).
    public let detail: Int32
    public let domainName: String
    public let domainUUID: String

    public init(kind: Kind, detail: Int32, domainName: String, domainUUID: String) {
        self.kind = kind
        self.detail = detail
        self.domainName = domainName
        self.domainUUID = domainUUID
    }
}

/// Why libvirt closed a connection (`virConnectCloseReason`), as passed to `onClose` handlers.
public enum ConnectionCloseReason: String, Sendable, Equatable {
    /// An I/O error on the socket.
    case error
    /// The daemon closed the socket (libvirtd stopped or restarted).
    case eof
    /// The daemon stopped answering keepalive probes (hung, or the network is gone).
    case keepalive
    /// The client side closed it.
    case client
    case unknown

    init(_ raw: Int32) {
        switch UInt32(bitPattern: raw) {
        case VIR_CONNECT_CLOSE_REASON_ERROR.rawValue: self = .error
        case VIR_CONNECT_CLOSE_REASON_EOF.rawValue: self = .eof
        case VIR_CONNECT_CLOSE_REASON_KEEPALIVE.rawValue: self = .keepalive
        case VIR_CONNECT_CLOSE_REASON_CLIENT.rawValue: self = .client
        default: self = .unknown
        }
    }
}
