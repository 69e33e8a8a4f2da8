import Foundation
import LibvirtClient

/// Collects lifecycle events from the event-loop thread and hands them to a test, per domain.
final class EventRecorder: @unchecked Sendable {
    private let condition = NSCondition()
    private var events: [DomainLifecycleEvent] = []

    func record(_ event: DomainLifecycleEvent) {
        condition.withLock {
            events.append(event)
            condition.broadcast()
        }
    }

    /// The first `kind` event for `domain`, waiting up to `timeout` seconds. It and that domain's
    /// events before it are consumed, so successive calls check the order of the kinds asked
    /// for, whatever else libvirt sends in between.
    func next(_ kind: DomainLifecycleEvent.Kind, for domain: String, timeout: Double = 5) -> DomainLifecycleEvent? {
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            while true {
                if let i = events.firstIndex(where: { $0.domainName == domain && $0.kind == kind }) {
                    let event = events[i]
                    events = events[...i].filter { $0.domainName != domain } + events[(i + 1)...]
                    return event
                }
                guard condition.wait(until: deadline) else { return nil }
            }
        }
    }

    func all(for domain: String) -> [DomainLifecycleEvent] {
        condition.withLock { events.filter { $0.domainName == domain } }
    }
}

/// The same for connection-close notices.
final class CloseRecorder: @unchecked Sendable {
    private let condition = NSCondition()
    private var reasons: [ConnectionCloseReason] = []

    func record(_ reason: ConnectionCloseReason) {
        condition.withLock {
            reasons.append(reason)
            condition.broadcast()
        }
    }

    func first(timeout: Double) -> ConnectionCloseReason? {
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            while reasons.isEmpty {
                guard condition.wait(until: deadline) else { return nil }
            }
            return reasons[0]
        }
    }

    var count: Int { condition.withLock { reasons.count } }
}
